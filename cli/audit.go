package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/persistence"
)

// skipAuditFlag is the flag that starts a kernel on a database that fails
// the audit, for serve and run.
const skipAuditFlag = "skip-audit"

// skipAuditUsage is its help text.
const skipAuditUsage = "start even if the database fails the audit (to recover what can be; the kernel may then misbehave)"

// auditShown is how many of an audit's problems the refusal names.
const auditShown = 5

// errAuditFailed is wrapped by auditDB's error for a database whose audit
// found problems.
var errAuditFailed = errors.New("fails the audit")

// auditDB runs the auditor (kernel.Audit) on the database at path before
// a kernel starts on it, and refuses it, naming the first problems, if
// the audit is not clean. A kernel resumed on such a store would build on
// state that contradicts itself (counts that free live objects, promises
// nobody settles) and spread the damage; refusing leaves the file as it
// is, for `inspect` and a person. It reads the file read-only, before the
// kernel takes it, so resume changes nothing first. A path that does not
// exist yet (a new kernel) and "" (in memory) have nothing to audit.
func auditDB(ctx context.Context, e *env, path string) error {
	if path == "" {
		return nil
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	st, err := persistence.Open(ctx, path, persistence.Options{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("audit %s: %w", path, err)
	}
	defer st.Close(ctx)
	problems, err := kernel.Audit(ctx, st)
	if err != nil {
		return fmt.Errorf("audit %s: %w (--%s starts anyway)", path, err, skipAuditFlag)
	}
	if len(problems) == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %v: %d problem(s)", path, errAuditFailed, len(problems))
	for i, p := range problems {
		if i == auditShown {
			fmt.Fprintf(&b, "\n  ... and %d more", len(problems)-auditShown)
			break
		}
		b.WriteString("\n  " + p)
	}
	fmt.Fprintf(&b, "\nNothing was changed. \"%s inspect --db %s\" shows them all; --%s starts anyway.", e.name, path, skipAuditFlag)
	return &auditError{msg: b.String()}
}

// auditError is the refusal's text, which wraps errAuditFailed.
type auditError struct{ msg string }

// Error is the refusal, problems and way out included.
func (e *auditError) Error() string { return e.msg }

// Unwrap makes the refusal match errAuditFailed.
func (e *auditError) Unwrap() error { return errAuditFailed }
