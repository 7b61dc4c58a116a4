package control_test

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/control"
)

// WritePrivate replaces the file by a rename: a reader that has the old
// file open reads it whole and unchanged, another name for the old file
// (a hard link) keeps the old content, the new file is 0600, and no
// temporary file is left behind.
func TestWritePrivateIsAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "k.db.addr")
	require.NoError(t, control.WritePrivate(path, []byte("127.0.0.1:1\n")))
	other := filepath.Join(dir, "other")
	require.NoError(t, os.Link(path, other))
	old, err := os.Open(path)
	require.NoError(t, err)
	defer old.Close()

	require.NoError(t, control.WritePrivate(path, []byte("127.0.0.1:2\n")))
	got, err := io.ReadAll(old)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:1\n", string(got), "the open reader sees the old file whole")
	got, err = os.ReadFile(other)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:1\n", string(got), "not written in place")
	got, err = os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:2\n", string(got))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 2, "only the file and its hard link: %v", entries)
}

// A path that is a symbolic link is refused, whether its target exists or
// not, and neither the link nor the target is touched. So is a directory.
func TestWritePrivateRefusesSymlinks(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "precious")
	require.NoError(t, os.WriteFile(target, []byte("keep me\n"), 0o644))
	for name, dest := range map[string]string{"to a file": target, "dangling": filepath.Join(dir, "created-by-no-one")} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "k.db.token")
			require.NoError(t, os.Symlink(dest, path))
			err := control.WriteToken(path, "s3cret")
			require.ErrorIs(t, err, control.ErrSymlink)
			require.Contains(t, err.Error(), path+": is a symbolic link; refusing to write through it")
			got, err := os.Readlink(path)
			require.NoError(t, err)
			require.Equal(t, dest, got, "the link is left as it was")
		})
	}
	b, err := os.ReadFile(target)
	require.NoError(t, err)
	require.Equal(t, "keep me\n", string(b))
	_, err = os.Stat(filepath.Join(dir, "created-by-no-one"))
	require.ErrorIs(t, err, os.ErrNotExist)

	sub := filepath.Join(dir, "sub")
	require.NoError(t, os.Mkdir(sub, 0o700))
	require.ErrorContains(t, control.WritePrivate(sub, []byte("x")), "is a directory")
}
