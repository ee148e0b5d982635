//go:build unix

package dotenv

import (
	"io/fs"
	"os"
	"syscall"
)

// keepOwner gives the temporary file the previous file's owner when they differ, as when
// root edits a user's file: otherwise the user could no longer read a 0600 file. The group
// does not matter at mode 0600 but is kept along with the owner.
func keepOwner(tmp *os.File, previous fs.FileInfo) error {
	if previous == nil {
		return nil
	}
	want, ok := previous.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	info, err := tmp.Stat()
	if err != nil {
		return err
	}
	if have, ok := info.Sys().(*syscall.Stat_t); ok && have.Uid == want.Uid {
		return nil
	}
	return tmp.Chown(int(want.Uid), int(want.Gid))
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return err
	}
	return d.Close()
}
