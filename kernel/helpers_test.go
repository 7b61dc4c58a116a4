package kernel_test

import (
	"errors"
	"regexp"
)

// leak is the acceptance tests' definition of an identifier leak in an
// error message (invariant 7).
var leak = regexp.MustCompile(`k[op][0-9]+|[op][+-][0-9]+|v[0-9]+`)

var errInjected = errors.New("injected fault")
