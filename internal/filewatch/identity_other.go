//go:build !unix

package filewatch

import "os"

// fileID is empty where os.FileInfo carries no inode: there, a Watch compares size
// and modification time only.
type fileID struct{}

// identityKnown reports whether identity tells files apart on this platform.
const identityKnown = false

func identity(os.FileInfo) fileID { return fileID{} }
