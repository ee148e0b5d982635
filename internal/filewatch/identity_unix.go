//go:build unix

package filewatch

import (
	"os"
	"syscall"
)

// fileID tells files apart: a rename over a file gives the path another inode.
type fileID struct {
	device, inode uint64
}

// identityKnown reports whether identity tells files apart on this platform.
const identityKnown = true

func identity(info os.FileInfo) fileID {
	stat, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}
	}
	// Dev and Ino have other integer types on other systems (Dev is int32 on darwin).
	return fileID{device: uint64(stat.Dev), inode: uint64(stat.Ino)}
}
