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
//
// Deferred syncs. A group commit's writer need not wait for the disk before
// it starts the next transaction: while a WalSyncDeferral lives on its
// thread, a WAL sync only writes out what is gathered (the frames reach the
// page cache, where every reader finds them) and the deferral names a
// descriptor of the file to fdatasync later, on another thread, before the
// commit is acknowledged. The WAL is a log: one fdatasync makes every frame
// written before it durable, so a crash or power loss keeps a prefix of the
// acknowledged commits and more, never less. Checkpoints must not copy a
// frame into the database before it is durable: the connection's WAL hook
// (InstallCheckpointHook) checkpoints with deferral suspended.
#ifndef WEFT_SRC_STORE_SQLITE_WAL_GATHER_H_
#define WEFT_SRC_STORE_SQLITE_WAL_GATHER_H_

struct sqlite3;

namespace weft::store {

// Registers the VFS (once per process, not as the default) and returns its
// name for sqlite3_open_v2; nullptr when it could not be registered (then
// the default VFS is used).
const char* WalGatheringVfs();

// Syncs of WAL files opened through this VFS, on this thread and while this
// lives, are put off (see above). Nests; not movable.
class WalSyncDeferral {
 public:
  WalSyncDeferral();
  ~WalSyncDeferral();
  WalSyncDeferral(const WalSyncDeferral&) = delete;
  WalSyncDeferral& operator=(const WalSyncDeferral&) = delete;

  // A descriptor of the WAL file whose sync was put off, to fdatasync
  // before acknowledging what was committed; -1 when none was. Valid while
  // the connection that wrote it is open.
  int owed_fd() const { return owed_fd_; }

  // Real syncs again on this thread for its lifetime (a checkpoint).
  class Suspension {
   public:
    Suspension();
    ~Suspension();
    Suspension(const Suspension&) = delete;
    Suspension& operator=(const Suspension&) = delete;

   private:
    WalSyncDeferral* suspended_;
  };

 private:
  friend void OweSync(int fd);
  int owed_fd_ = -1;
  WalSyncDeferral* outer_;
};

// Replaces the connection's automatic checkpoint (every `frames` WAL frames
// after a commit, as PRAGMA wal_autocheckpoint does) by one that syncs for
// real under a WalSyncDeferral.
void InstallCheckpointHook(sqlite3* db, int frames);

}  // namespace weft::store

#endif  // WEFT_SRC_STORE_SQLITE_WAL_GATHER_H_
