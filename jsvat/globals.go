package jsvat

import (
	"fmt"
	"slices"
)

// AllowedGlobals are the globals a JavaScript vat may ask for in its
// config's globals, beyond the console every vat gets. It is the
// reference's allow-list less the network (fetch, Request, Headers,
// Response), which the reference grants only with a per-vat host
// allow-list that this kernel's vat config does not have. The worker
// holds the same list (src/endowments.js) and refuses any other name too.
var AllowedGlobals = []string{
	"setTimeout", "clearTimeout", "setInterval", "clearInterval",
	"Date", "Math", "crypto", "SubtleCrypto",
	"TextEncoder", "TextDecoder", "URL", "URLSearchParams", "atob", "btoa",
	"AbortController", "AbortSignal",
}

// networkGlobals are the reference's network globals, refused here with
// their own reason.
// A vat holding fetch could reach any host: an ambient authority that no
// capability the kernel handed it stands for. Named apart from unknown
// globals so the refusal says why.
var networkGlobals = []string{"fetch", "Request", "Headers", "Response"}

// CheckGlobals refuses a name that is not in AllowedGlobals, or one named
// twice, naming it.
//
// INVARIANT: the kernel checks the globals itself, before a worker is
// started, rather than trusting the worker's own check: an
// Options.Command worker may be written by anyone. A name listed twice is
// a config mistake, refused rather than guessed at.
func CheckGlobals(names []string) error {
	for i, n := range names {
		switch {
		case slices.Contains(networkGlobals, n):
			return fmt.Errorf("globals[%d]: %q: the network is not available to vats here (the reference grants it only with a host allow-list)", i, n)
		case !slices.Contains(AllowedGlobals, n):
			return fmt.Errorf("globals[%d]: unknown global %q (allowed: %v)", i, n, AllowedGlobals)
		case slices.Contains(names[:i], n):
			return fmt.Errorf("globals[%d]: %q is listed twice", i, n)
		}
	}
	return nil
}
