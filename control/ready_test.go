package control_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/control"
)

// deadPID names no process: above any pid_max.
const deadPID = math.MaxInt32

// found is what FindDaemon returned, and when, on the bubble's clock.
type found struct {
	addr    string
	err     error
	elapsed time.Duration
}

// findAsync runs FindDaemon on a goroutine of the bubble and reports on
// the channel once it returns.
func findAsync(ctx context.Context, db string) <-chan found {
	ch := make(chan found, 1)
	start := time.Now()
	go func() {
		addr, err := control.FindDaemon(ctx, db)
		ch <- found{addr, err, time.Since(start)}
	}()
	return ch
}

// A client that starts before serve has written anything (a script's
// "serve &" and then a client) waits: for PATH.pid to appear, then, while
// that process lives, for PATH.addr, and returns the address once it is
// there. synctest's clock makes the waits cost nothing, and Wait proves
// the client was blocked, still looking, before each file appeared.
func TestFindDaemonWaitsForAServeThatIsStarting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "k.db")
		ch := findAsync(context.Background(), db)
		synctest.Wait()
		time.Sleep(control.StartGrace / 2) // the bubble's clock: serve is slow to start
		release, err := control.ClaimPID(db)
		require.NoError(t, err)
		defer release()
		time.Sleep(10 * control.StartGrace) // the audit and the resume: long past the grace
		synctest.Wait()
		select {
		case f := <-ch:
			t.Fatalf("returned before the daemon was ready: %+v", f)
		default:
		}
		require.NoError(t, control.WritePrivate(control.AddrPath(db), []byte("127.0.0.1:7411\n")))
		f := <-ch
		require.NoError(t, f.err)
		require.Equal(t, "127.0.0.1:7411", f.addr)
		require.GreaterOrEqual(t, f.elapsed, 10*control.StartGrace)
	})
}

// With no serve at all, or one that died without cleaning up (a kill -9
// leaves PATH.pid naming a process that is gone), a client says so after
// StartGrace, not after its whole timeout; a directory that does not
// exist is refused at once.
func TestFindDaemonWhenNoneRuns(t *testing.T) {
	for _, tt := range []struct {
		name  string
		setup func(t *testing.T, db string)
	}{
		{"nothing", func(t *testing.T, db string) {}},
		{"stale pid", func(t *testing.T, db string) {
			require.NoError(t, os.WriteFile(control.PIDPath(db), []byte(strconv.Itoa(deadPID)+"\n"), 0o600))
		}},
		{"pid not a number", func(t *testing.T, db string) {
			require.NoError(t, os.WriteFile(control.PIDPath(db), []byte("garbage\n"), 0o600))
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				db := filepath.Join(t.TempDir(), "k.db")
				tt.setup(t, db)
				ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
				defer cancel()
				f := <-findAsync(ctx, db)
				require.ErrorIs(t, f.err, control.ErrNoDaemon)
				require.ErrorContains(t, f.err, "neither "+control.AddrPath(db)+" nor a live "+control.PIDPath(db)+" appeared within 3s")
				require.Equal(t, control.StartGrace, f.elapsed.Truncate(control.StartGrace))
			})
		})
	}

	_, err := control.FindDaemon(context.Background(), "/no/such/dir/k.db")
	require.ErrorIs(t, err, control.ErrNoDaemon)
	require.ErrorContains(t, err, "/no/such/dir")
}

// A serve that runs but is not ready when the client's deadline comes is
// reported as such, with the deadline's error; a file that is not an
// address is named.
func TestFindDaemonNotReadyInTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "k.db")
		release, err := control.ClaimPID(db)
		require.NoError(t, err)
		defer release()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		f := <-findAsync(ctx, db)
		require.ErrorIs(t, f.err, control.ErrNotReady)
		require.ErrorIs(t, f.err, context.DeadlineExceeded)
		require.ErrorContains(t, f.err, "serve (process "+strconv.Itoa(os.Getpid())+") had not written "+control.AddrPath(db))
		require.Equal(t, time.Minute, f.elapsed)
	})

	db := filepath.Join(t.TempDir(), "k.db")
	require.NoError(t, os.WriteFile(control.AddrPath(db), []byte("nowhere\n"), 0o600))
	_, err := control.FindDaemon(context.Background(), db)
	require.ErrorContains(t, err, `holds "nowhere", not HOST:PORT`)
}

// ClaimPID refuses a database another live process serves, takes over a
// file left by one that is gone, and its release removes the file only
// while it is still its own. RemoveFiles takes the address and the token
// and tolerates their absence.
func TestClaimPIDAndRemoveFiles(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.db")
	pidFile := control.PIDPath(db)

	// Another live process: this test's parent.
	require.NoError(t, os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getppid())+"\n"), 0o600))
	_, err := control.ClaimPID(db)
	require.ErrorIs(t, err, control.ErrServing)
	require.ErrorContains(t, err, "process "+strconv.Itoa(os.Getppid()))

	require.NoError(t, os.WriteFile(pidFile, []byte(strconv.Itoa(deadPID)+"\n"), 0o600))
	release, err := control.ClaimPID(db)
	require.NoError(t, err)
	b, err := os.ReadFile(pidFile)
	require.NoError(t, err)
	require.Equal(t, strconv.Itoa(os.Getpid())+"\n", string(b))
	fi, err := os.Stat(pidFile)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	release()
	_, err = os.Stat(pidFile)
	require.ErrorIs(t, err, os.ErrNotExist)

	// A serve that lost the race: the winner's id stays.
	release, err = control.ClaimPID(db)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getppid())+"\n"), 0o600))
	release()
	_, err = os.Stat(pidFile)
	require.NoError(t, err, "not ours any more: left alone")

	require.NoError(t, control.WriteToken(control.TokenPath(db), "t"))
	require.NoError(t, control.WritePrivate(control.AddrPath(db), []byte("127.0.0.1:1\n")))
	require.NoError(t, control.RemoveFiles(db))
	for _, p := range []string{control.TokenPath(db), control.AddrPath(db)} {
		_, err := os.Stat(p)
		require.ErrorIs(t, err, os.ErrNotExist, p)
	}
	require.NoError(t, control.RemoveFiles(db), "already gone")
}
