package sqlite

import "io/fs"

// mustSub returns the subtree dir of an embedded file system; it panics only if
// the embed directive and dir disagree, which the package's tests would catch.
func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err)
	}
	return sub
}
