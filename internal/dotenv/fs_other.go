//go:build !unix

package dotenv

import (
	"io/fs"
	"os"
)

// keepOwner does nothing where files have no Unix owner.
func keepOwner(*os.File, fs.FileInfo) error { return nil }

// syncDir does nothing where directories cannot be opened for fsync (Windows).
func syncDir(string) error { return nil }
