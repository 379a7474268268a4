// A SQLite VFS that writes a transaction's WAL frames with one system call.
//
// SQLite appends a commit to the write-ahead log one frame at a time, each
// frame as two writes (its 24-byte header, then the page): a webhook commit
// group of a dozen pages made ~26 pwrite calls, each a trip through the
// kernel (and, on a virtual machine, the hypervisor). This VFS wraps the
// default one; for WAL files only, consecutive writes are gathered in memory
// and written at once when SQLite syncs the file, reads it, asks its size,
// truncates it or closes it (every other file passes straight through).
//
// Only for connections with `PRAGMA synchronous=FULL`: there SQLite syncs
// the WAL at every commit *before* it publishes the new frames in the
// WAL index (the shared memory other connections read), so no reader can
// learn of a frame that is still in this buffer. With NORMAL there is no
// sync per commit, so this VFS must not be used.
#ifndef WEFT_SRC_STORE_SQLITE_WAL_GATHER_H_
#define WEFT_SRC_STORE_SQLITE_WAL_GATHER_H_

namespace weft::store {

// Registers the VFS (once per process, not as the default) and returns its
// name for sqlite3_open_v2; nullptr when it could not be registered (then
// the default VFS is used).
const char* WalGatheringVfs();

}  // namespace weft::store

#endif  // WEFT_SRC_STORE_SQLITE_WAL_GATHER_H_
