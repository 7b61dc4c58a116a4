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
	"github.com/ocapgo/kernel-actors/persistence/sqlitestore"
)

// skipAuditFlag is the flag that starts a kernel on a database that fails
// the audit, for serve and run.
//
// It is one constant shared by the flag and every message that names
// it, so the way out a refusal suggests is always the real flag.
const skipAuditFlag = "skip-audit"

// skipAuditUsage is its help text.
//
// The help says the cost plainly: skipping is for recovery, and a user
// should not reach for it to silence a refusal.
const skipAuditUsage = "start even if the database fails the audit (to recover what can be; the kernel may then misbehave)"

// auditShown is how many of an audit's problems the refusal names.
//
// A few are enough to show what kind of damage it is; a store with
// thousands would bury the way out at the end of the message.
const auditShown = 5

// errAuditFailed is wrapped by auditDB's error for a database whose audit
// found problems.
//
// Callers and tests test for it with errors.Is to tell a refused store
// from one that could not be read at all.
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
	// Any other Stat error falls through to Open, which names it better.
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	// INVARIANT: the audit opens the file read-only and closes it before
	// the kernel starts, so a refused store is left exactly as it was.
	st, err := sqlitestore.Open(ctx, path, persistence.Options{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("audit %s: %w", path, err)
	}
	defer st.Close(ctx)
	problems, err := kernel.Audit(ctx, st)
	if err != nil {
		// An audit that could not run is refused too: a store that cannot be
		// checked is not known to be sound.
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
	// The refusal says that nothing changed and how to see more, so a
	// user's next step is to look, not to retry with --skip-audit.
	fmt.Fprintf(&b, "\nNothing was changed. \"%s inspect --db %s\" shows them all; --%s starts anyway.", e.name, path, skipAuditFlag)
	return &auditError{msg: b.String()}
}

// auditError is the refusal's text, which wraps errAuditFailed.
//
// A type of its own, not fmt.Errorf, so the multi-line message keeps
// its layout while errors.Is still finds errAuditFailed.
type auditError struct{ msg string }

// Error is the refusal, problems and way out included.
func (e *auditError) Error() string { return e.msg }

// Unwrap makes the refusal match errAuditFailed.
func (e *auditError) Unwrap() error { return errAuditFailed }
