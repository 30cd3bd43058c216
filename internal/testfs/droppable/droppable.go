//go:build linux

// Package droppable is a test-only FUSE file system whose power can be cut:
// it passes every operation through to a backing directory (go-fuse's
// loopback node) and remembers, per file, how to undo every write and size
// change that has not been fsynced yet.
//
// The model it simulates is the one a database must survive on a real disk
// with a volatile write cache:
//   - File data and file size are durable only once fsync or fdatasync of that
//     file (through any descriptor) has returned. [FS.Cut] followed by
//     [FS.Unmount] puts every file back to its last fsynced content and size,
//     whatever was written, truncated or preallocated since.
//   - Metadata (create, mkdir, rename, unlink, link, chmod) is durable at once,
//     as on a journaling file system that has already committed it. This is
//     kinder than a real disk, which may lose a create whose directory was not
//     synced; SQLite does sync the directory where it needs a create to
//     survive, and this package does not check that.
//   - Nothing happens after the cut: from [FS.Cut] on, every operation that
//     would change the backing directory (including fsync) fails with EIO, so
//     a process still running cannot make anything durable after the power
//     went off.
//
// fsync itself is simulated (it marks the file's data durable and returns);
// the backing directory is a test fixture and is never synced to its own disk.
// File locks are left to the kernel (no EnableLocks), as SQLite needs them
// between processes of one machine only.
package droppable

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// FS is a mounted droppable file system.
type FS struct {
	backing string
	mount   string
	server  *fuse.Server

	mu       sync.Mutex
	dead     bool                // the power is off
	journals map[uint64]*journal // unsynced changes per backing inode
	unmount  bool
	syncs    int // fsyncs that made something durable, for tests' figures
}

// journal is the undo log of one file: what to put back, newest last.
type journal struct {
	fd      int // a duplicate of a writable descriptor of the file, so renames and unlinks do not lose it
	entries []undo
}

// undo restores one change: old holds the bytes that stood at off before it,
// size the file's size before it.
type undo struct {
	off  int64
	old  []byte
	size int64
}

// Mount mounts a droppable view of the directory backing at mountpoint (an
// existing empty directory). It needs /dev/fuse and the right to mount(2)
// (root); see [Available].
func Mount(backing, mountpoint string) (*FS, error) {
	root, err := fs.NewLoopbackRoot(backing)
	if err != nil {
		return nil, fmt.Errorf("droppable: backing directory %s: %w", backing, err)
	}
	f := &FS{backing: backing, mount: mountpoint, journals: map[uint64]*journal{}}
	lr := root.(*fs.LoopbackNode)
	top := &node{LoopbackNode: lr, fsys: f}
	lr.RootData.RootNode = top
	server, err := fs.Mount(mountpoint, top, &fs.Options{
		MountOptions: fuse.MountOptions{
			DirectMountStrict: true, // no fusermount on this machine, and none needed as root
			FsName:            "droppable",
			Name:              "droppable",
		},
	})
	if err != nil {
		return nil, fmt.Errorf("droppable: mount %s on %s: %w", backing, mountpoint, err)
	}
	f.server = server
	return f, nil
}

// Available says whether this process can mount a FUSE file system, and if not why.
func Available() error {
	fd, err := syscall.Open("/dev/fuse", syscall.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open /dev/fuse: %w", err)
	}
	syscall.Close(fd)
	if syscall.Geteuid() != 0 {
		return errors.New("not root: mount(2) of a FUSE file system needs root here (no fusermount is used)")
	}
	return nil
}

// Cut cuts the power: from now on nothing reaches the backing directory, and
// every change not fsynced before this call will be undone by [FS.Unmount].
func (f *FS) Cut() {
	f.mu.Lock()
	f.dead = true
	f.mu.Unlock()
}

// Syncs reports how many fsyncs the file system has honoured.
func (f *FS) Syncs() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.syncs
}

// Unmount unmounts the file system (every process using it must have closed
// its files, for example by being killed) and, if the power was cut, undoes
// every unsynced change in the backing directory, newest first, so that it
// holds exactly what was fsynced. It reports how many changes it undid.
func (f *FS) Unmount() (undone int, err error) {
	f.mu.Lock()
	if f.unmount {
		f.mu.Unlock()
		return 0, errors.New("droppable: already unmounted")
	}
	f.unmount = true
	f.mu.Unlock()
	if err := f.server.Unmount(); err != nil {
		return 0, fmt.Errorf("droppable: unmount %s: %w", f.mount, err)
	}
	f.server.Wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	var errs []error
	for ino, j := range f.journals {
		if f.dead {
			for _, u := range slices.Backward(j.entries) {
				if len(u.old) > 0 {
					if _, err := syscall.Pwrite(j.fd, u.old, u.off); err != nil {
						errs = append(errs, fmt.Errorf("droppable: undo write of inode %d at %d: %w", ino, u.off, err))
					}
				}
				if err := syscall.Ftruncate(j.fd, u.size); err != nil {
					errs = append(errs, fmt.Errorf("droppable: undo size of inode %d to %d: %w", ino, u.size, err))
				}
				undone++
			}
		}
		syscall.Close(j.fd)
	}
	f.journals = map[uint64]*journal{}
	return undone, errors.Join(errs...)
}

// record journals, before it happens, a change of the bytes [off, off+n) and
// possibly of the size of the file open as fd. Call with f.mu held.
func (f *FS) record(fd int, off, n int64) syscall.Errno {
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return fs.ToErrno(err)
	}
	j := f.journals[st.Ino]
	if j == nil {
		// Its own read-write descriptor: fd may be write-only, and the
		// file may be renamed or unlinked before the cut.
		rw, err := syscall.Open(fmt.Sprintf("/proc/self/fd/%d", fd), syscall.O_RDWR|syscall.O_CLOEXEC, 0)
		if err != nil {
			return fs.ToErrno(err)
		}
		j = &journal{fd: rw}
		f.journals[st.Ino] = j
	}
	u := undo{off: off, size: st.Size}
	if end := min(off+n, st.Size); end > off {
		u.old = make([]byte, end-off)
		if _, err := syscall.Pread(j.fd, u.old, off); err != nil {
			return fs.ToErrno(err)
		}
	}
	j.entries = append(j.entries, u)
	return fs.OK
}

// synced marks the file open as fd durable. Call with f.mu held.
func (f *FS) synced(fd int) syscall.Errno {
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return fs.ToErrno(err)
	}
	if j := f.journals[st.Ino]; j != nil {
		syscall.Close(j.fd)
		delete(f.journals, st.Ino)
	}
	f.syncs++
	return fs.OK
}

// truncate journals and applies a change of size of the file open as fd.
// Call with f.mu held.
func (f *FS) truncate(fd int, size int64) syscall.Errno {
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return fs.ToErrno(err)
	}
	if errno := f.record(fd, size, max(st.Size-size, 0)); errno != fs.OK {
		return errno
	}
	return fs.ToErrno(syscall.Ftruncate(fd, size))
}

// node is a loopback node whose files are journaled and whose changes stop at the cut.
type node struct {
	*fs.LoopbackNode
	fsys *FS
}

var (
	_ fs.NodeWrapChilder = (*node)(nil)
	_ fs.NodeOpener      = (*node)(nil)
	_ fs.NodeCreater     = (*node)(nil)
	_ fs.NodeSetattrer   = (*node)(nil)
)

// WrapChild makes every node below the root a journaled one.
func (n *node) WrapChild(ctx context.Context, ops fs.InodeEmbedder) fs.InodeEmbedder {
	return &node{LoopbackNode: ops.(*fs.LoopbackNode), fsys: n.fsys}
}

// alive runs op unless the power is off.
func (n *node) alive(op func() syscall.Errno) syscall.Errno { return n.fsys.alive(op) }

// wrap turns a loopback file handle into a journaled one, truncating it
// (journaled) if trunc.
func (n *node) wrap(fh fs.FileHandle, trunc bool) (fs.FileHandle, syscall.Errno) {
	fd, _ := fh.(fs.FilePassthroughFder).PassthroughFd()
	h := &file{loopback: fh.(loopback), fd: fd, fsys: n.fsys}
	if trunc {
		if errno := n.alive(func() syscall.Errno { return n.fsys.truncate(fd, 0) }); errno != fs.OK {
			fh.(fs.FileReleaser).Release(context.Background())
			return nil, errno
		}
	}
	return h, fs.OK
}

// Open opens a journaled file; O_TRUNC is journaled like any truncate.
func (n *node) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	fh, fuseFlags, errno := n.LoopbackNode.Open(ctx, flags&^syscall.O_TRUNC)
	if errno != fs.OK {
		return nil, 0, errno
	}
	h, errno := n.wrap(fh, flags&syscall.O_TRUNC != 0)
	return h, fuseFlags, errno
}

// Create creates a file (durable at once, as metadata) and opens it journaled.
func (n *node) Create(ctx context.Context, name string, flags, mode uint32, out *fuse.EntryOut) (inode *fs.Inode, fh fs.FileHandle, fuseFlags uint32, errno syscall.Errno) {
	errno = n.alive(func() syscall.Errno {
		inode, fh, fuseFlags, errno = n.LoopbackNode.Create(ctx, name, flags&^syscall.O_TRUNC, mode, out)
		return errno
	})
	if errno != fs.OK {
		return nil, nil, 0, errno
	}
	fh, errno = n.wrap(fh, flags&syscall.O_TRUNC != 0)
	return inode, fh, fuseFlags, errno
}

// Setattr journals a change of size made by path; the rest is metadata.
func (n *node) Setattr(ctx context.Context, fh fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if h, ok := fh.(*file); ok {
		return h.Setattr(ctx, in, out)
	}
	return n.alive(func() syscall.Errno {
		if size, ok := in.GetSize(); ok {
			path := n.RootData.Path + "/" + n.Path(n.Root())
			fd, err := syscall.Open(path, syscall.O_WRONLY, 0)
			if err != nil {
				return fs.ToErrno(err)
			}
			defer syscall.Close(fd)
			if errno := n.fsys.truncate(fd, int64(size)); errno != fs.OK {
				return errno
			}
			in.Valid &^= fuse.FATTR_SIZE
		}
		return n.LoopbackNode.Setattr(ctx, nil, in, out)
	})
}

// Mkdir is metadata: durable at once, refused after the cut.
func (n *node) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (ch *fs.Inode, errno syscall.Errno) {
	errno = n.alive(func() syscall.Errno { ch, errno = n.LoopbackNode.Mkdir(ctx, name, mode, out); return errno })
	return ch, errno
}

// Mknod is metadata: durable at once, refused after the cut.
func (n *node) Mknod(ctx context.Context, name string, mode, rdev uint32, out *fuse.EntryOut) (ch *fs.Inode, errno syscall.Errno) {
	errno = n.alive(func() syscall.Errno { ch, errno = n.LoopbackNode.Mknod(ctx, name, mode, rdev, out); return errno })
	return ch, errno
}

// Symlink is metadata: durable at once, refused after the cut.
func (n *node) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (ch *fs.Inode, errno syscall.Errno) {
	errno = n.alive(func() syscall.Errno { ch, errno = n.LoopbackNode.Symlink(ctx, target, name, out); return errno })
	return ch, errno
}

// Link is metadata: durable at once, refused after the cut.
func (n *node) Link(ctx context.Context, target fs.InodeEmbedder, name string, out *fuse.EntryOut) (ch *fs.Inode, errno syscall.Errno) {
	errno = n.alive(func() syscall.Errno { ch, errno = n.LoopbackNode.Link(ctx, target, name, out); return errno })
	return ch, errno
}

// Unlink is metadata: durable at once, refused after the cut.
func (n *node) Unlink(ctx context.Context, name string) syscall.Errno {
	return n.alive(func() syscall.Errno { return n.LoopbackNode.Unlink(ctx, name) })
}

// Rmdir is metadata: durable at once, refused after the cut.
func (n *node) Rmdir(ctx context.Context, name string) syscall.Errno {
	return n.alive(func() syscall.Errno { return n.LoopbackNode.Rmdir(ctx, name) })
}

// Rename is metadata: durable at once, refused after the cut. A renamed
// file's unsynced changes are still undone: the journal holds the file open.
func (n *node) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	if p, ok := newParent.(*node); ok {
		newParent = p.LoopbackNode
	}
	return n.alive(func() syscall.Errno { return n.LoopbackNode.Rename(ctx, name, newParent, newName, flags) })
}

// Setxattr is metadata: durable at once, refused after the cut.
func (n *node) Setxattr(ctx context.Context, attr string, data []byte, flags uint32) syscall.Errno {
	return n.alive(func() syscall.Errno { return n.LoopbackNode.Setxattr(ctx, attr, data, flags) })
}

// Removexattr is metadata: durable at once, refused after the cut.
func (n *node) Removexattr(ctx context.Context, attr string) syscall.Errno {
	return n.alive(func() syscall.Errno { return n.LoopbackNode.Removexattr(ctx, attr) })
}

// loopback is what a journaled file passes through to go-fuse's loopback
// file. Getlk/Setlk, passthrough and ioctl are deliberately not among them:
// locks stay in the kernel, and passthrough would let writes bypass the journal.
type loopback interface {
	fs.FileReader
	fs.FileWriter
	fs.FileFlusher
	fs.FileFsyncer
	fs.FileReleaser
	fs.FileGetattrer
	fs.FileSetattrer
	fs.FileLseeker
	fs.FileAllocater
}

// file is an open journaled file.
type file struct {
	loopback
	fd   int
	fsys *FS
}

// Write journals the bytes it overwrites and the old size, then writes.
func (h *file) Write(ctx context.Context, data []byte, off int64) (written uint32, errno syscall.Errno) {
	errno = h.fsys.alive(func() syscall.Errno {
		if errno := h.fsys.record(h.fd, off, int64(len(data))); errno != fs.OK {
			return errno
		}
		written, errno = h.loopback.Write(ctx, data, off)
		return errno
	})
	return written, errno
}

// Fsync makes the file's data and size durable (fdatasync alike).
func (h *file) Fsync(ctx context.Context, flags uint32) syscall.Errno {
	return h.fsys.alive(func() syscall.Errno { return h.fsys.synced(h.fd) })
}

// Setattr journals a change of size; the rest is metadata.
func (h *file) Setattr(ctx context.Context, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return h.fsys.alive(func() syscall.Errno {
		if size, ok := in.GetSize(); ok {
			if errno := h.fsys.truncate(h.fd, int64(size)); errno != fs.OK {
				return errno
			}
			in.Valid &^= fuse.FATTR_SIZE
		}
		return h.loopback.Setattr(ctx, in, out)
	})
}

// Allocate journals the range it may change (zeroing or punching modes) and
// the old size, then allocates.
func (h *file) Allocate(ctx context.Context, off, size uint64, mode uint32) syscall.Errno {
	return h.fsys.alive(func() syscall.Errno {
		if errno := h.fsys.record(h.fd, int64(off), int64(size)); errno != fs.OK {
			return errno
		}
		return h.loopback.Allocate(ctx, off, size, mode)
	})
}

// alive runs op with f.mu held unless the power is off.
func (f *FS) alive(op func() syscall.Errno) syscall.Errno {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.dead {
		return syscall.EIO
	}
	return op()
}
