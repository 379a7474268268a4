#include "sqlite_wal_gather.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <vector>

namespace weft::store {
namespace {

// A transaction larger than this is written as it goes, in parts.
constexpr size_t kMaxGathered = size_t{1} << 20;
// The default VFS writes at most 128 KiB - 1 bytes per call (its unixWrite
// keeps the low 17 bits of the count): what is gathered is written in
// pieces no larger than this.
constexpr size_t kMaxWrite = size_t{120} << 10;

sqlite3_vfs* Real(sqlite3_vfs* vfs) { return static_cast<sqlite3_vfs*>(vfs->pAppData); }

// A WAL file: the default VFS's file (`real`, in the same allocation, just
// after this header) and what is gathered for it, bytes [start, start +
// pending.size()) of the file.
struct GatherFile {
  sqlite3_file base;
  sqlite3_file* real;
  std::vector<char>* pending;
  sqlite3_int64 start;
};

GatherFile* Gather(sqlite3_file* f) { return reinterpret_cast<GatherFile*>(f); }
const sqlite3_io_methods& RealMethods(GatherFile* g) { return *g->real->pMethods; }

int Flush(GatherFile* g) {
  const std::vector<char>& pending = *g->pending;
  int rc = SQLITE_OK;
  for (size_t done = 0; done < pending.size() && rc == SQLITE_OK; done += kMaxWrite) {
    const size_t n = std::min(kMaxWrite, pending.size() - done);
    rc = RealMethods(g).xWrite(g->real, pending.data() + done, static_cast<int>(n),
                               g->start + static_cast<sqlite3_int64>(done));
  }
  g->pending->clear();
  return rc;
}

int Close(sqlite3_file* f) {
  GatherFile* g = Gather(f);
  const int flushed = Flush(g);
  const int closed = RealMethods(g).xClose(g->real);
  delete g->pending;
  g->pending = nullptr;
  return flushed != SQLITE_OK ? flushed : closed;
}

int Write(sqlite3_file* f, const void* data, int amount, sqlite3_int64 offset) {
  GatherFile* g = Gather(f);
  std::vector<char>& pending = *g->pending;
  const auto* bytes = static_cast<const char*>(data);
  const sqlite3_int64 end = g->start + static_cast<sqlite3_int64>(pending.size());
  if (!pending.empty() && offset >= g->start && offset + amount <= end) {
    // A frame of this transaction written again (its checksum redone).
    std::memcpy(pending.data() + (offset - g->start), bytes, static_cast<size_t>(amount));
    return SQLITE_OK;
  }
  if (!pending.empty() && offset != end) {
    if (const int rc = Flush(g); rc != SQLITE_OK) return rc;
  }
  if (pending.empty()) g->start = offset;
  try {
    pending.insert(pending.end(), bytes, bytes + amount);
  } catch (const std::bad_alloc&) {
    // Written through instead, after what was gathered before it.
    if (const int rc = Flush(g); rc != SQLITE_OK) return rc;
    return RealMethods(g).xWrite(g->real, data, amount, offset);
  }
  return pending.size() >= kMaxGathered ? Flush(g) : SQLITE_OK;
}

// Everything that looks at the file's content or size, or makes it durable,
// sees the gathered bytes written first.
int Read(sqlite3_file* f, void* out, int amount, sqlite3_int64 offset) {
  GatherFile* g = Gather(f);
  if (const int rc = Flush(g); rc != SQLITE_OK) return rc;
  return RealMethods(g).xRead(g->real, out, amount, offset);
}
int Truncate(sqlite3_file* f, sqlite3_int64 size) {
  GatherFile* g = Gather(f);
  if (const int rc = Flush(g); rc != SQLITE_OK) return rc;
  return RealMethods(g).xTruncate(g->real, size);
}
int Sync(sqlite3_file* f, int flags) {
  GatherFile* g = Gather(f);
  if (const int rc = Flush(g); rc != SQLITE_OK) return rc;
  return RealMethods(g).xSync(g->real, flags);
}
int FileSize(sqlite3_file* f, sqlite3_int64* size) {
  GatherFile* g = Gather(f);
  if (const int rc = Flush(g); rc != SQLITE_OK) return rc;
  return RealMethods(g).xFileSize(g->real, size);
}
int FileControl(sqlite3_file* f, int op, void* arg) {
  GatherFile* g = Gather(f);
  if (const int rc = Flush(g); rc != SQLITE_OK) return rc;
  return RealMethods(g).xFileControl(g->real, op, arg);
}
int Fetch(sqlite3_file* f, sqlite3_int64 offset, int amount, void** pp) {
  GatherFile* g = Gather(f);
  *pp = nullptr;
  if (const int rc = Flush(g); rc != SQLITE_OK) return rc;
  return RealMethods(g).iVersion >= 3 ? RealMethods(g).xFetch(g->real, offset, amount, pp) : SQLITE_OK;
}

// The rest passes through.
int Lock(sqlite3_file* f, int level) { return RealMethods(Gather(f)).xLock(Gather(f)->real, level); }
int Unlock(sqlite3_file* f, int level) { return RealMethods(Gather(f)).xUnlock(Gather(f)->real, level); }
int CheckReservedLock(sqlite3_file* f, int* out) {
  return RealMethods(Gather(f)).xCheckReservedLock(Gather(f)->real, out);
}
int SectorSize(sqlite3_file* f) { return RealMethods(Gather(f)).xSectorSize(Gather(f)->real); }
int DeviceCharacteristics(sqlite3_file* f) { return RealMethods(Gather(f)).xDeviceCharacteristics(Gather(f)->real); }
int ShmMap(sqlite3_file* f, int region, int size, int extend, void volatile** pp) {
  return RealMethods(Gather(f)).xShmMap(Gather(f)->real, region, size, extend, pp);
}
int ShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return RealMethods(Gather(f)).xShmLock(Gather(f)->real, offset, n, flags);
}
void ShmBarrier(sqlite3_file* f) { RealMethods(Gather(f)).xShmBarrier(Gather(f)->real); }
int ShmUnmap(sqlite3_file* f, int remove) { return RealMethods(Gather(f)).xShmUnmap(Gather(f)->real, remove); }
int Unfetch(sqlite3_file* f, sqlite3_int64 offset, void* p) {
  GatherFile* g = Gather(f);
  return RealMethods(g).iVersion >= 3 ? RealMethods(g).xUnfetch(g->real, offset, p) : SQLITE_OK;
}

const sqlite3_io_methods kGatherMethods = {
    3,
    Close,
    Read,
    Write,
    Truncate,
    Sync,
    FileSize,
    Lock,
    Unlock,
    CheckReservedLock,
    FileControl,
    SectorSize,
    DeviceCharacteristics,
    ShmMap,
    ShmLock,
    ShmBarrier,
    ShmUnmap,
    Fetch,
    Unfetch,
};

int Open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  sqlite3_vfs* real = Real(vfs);
  // Databases, journals and everything else: the default VFS's own file,
  // in place (this VFS's file size leaves it room).
  if ((flags & SQLITE_OPEN_WAL) == 0) return real->xOpen(real, name, file, flags, out_flags);
  GatherFile* g = Gather(file);
  g->base.pMethods = nullptr;
  g->real = reinterpret_cast<sqlite3_file*>(g + 1);
  g->pending = nullptr;
  g->start = 0;
  const int rc = real->xOpen(real, name, g->real, flags, out_flags);
  if (rc != SQLITE_OK) return rc;
  g->pending = new (std::nothrow) std::vector<char>();
  if (g->pending == nullptr) {
    g->real->pMethods->xClose(g->real);
    return SQLITE_NOMEM;
  }
  g->base.pMethods = &kGatherMethods;
  return SQLITE_OK;
}

// The VFS's other methods act on names, not files: the default VFS's.
int Delete(sqlite3_vfs* v, const char* name, int sync_dir) { return Real(v)->xDelete(Real(v), name, sync_dir); }
int Access(sqlite3_vfs* v, const char* name, int flags, int* out) {
  return Real(v)->xAccess(Real(v), name, flags, out);
}
int FullPathname(sqlite3_vfs* v, const char* name, int n, char* out) {
  return Real(v)->xFullPathname(Real(v), name, n, out);
}
void* DlOpen(sqlite3_vfs* v, const char* name) { return Real(v)->xDlOpen(Real(v), name); }
void DlError(sqlite3_vfs* v, int n, char* out) { Real(v)->xDlError(Real(v), n, out); }
void (*DlSym(sqlite3_vfs* v, void* lib, const char* symbol))(void) { return Real(v)->xDlSym(Real(v), lib, symbol); }
void DlClose(sqlite3_vfs* v, void* lib) { Real(v)->xDlClose(Real(v), lib); }
int Randomness(sqlite3_vfs* v, int n, char* out) { return Real(v)->xRandomness(Real(v), n, out); }
int Sleep(sqlite3_vfs* v, int us) { return Real(v)->xSleep(Real(v), us); }
int CurrentTime(sqlite3_vfs* v, double* out) { return Real(v)->xCurrentTime(Real(v), out); }
int GetLastError(sqlite3_vfs* v, int n, char* out) { return Real(v)->xGetLastError(Real(v), n, out); }
int CurrentTimeInt64(sqlite3_vfs* v, sqlite3_int64* out) { return Real(v)->xCurrentTimeInt64(Real(v), out); }

const char* Register() {
  sqlite3_vfs* real = sqlite3_vfs_find(nullptr);
  if (real == nullptr || real->iVersion < 2) return nullptr;
  static sqlite3_vfs vfs;
  vfs.iVersion = 2;
  vfs.szOsFile = static_cast<int>(sizeof(GatherFile)) + real->szOsFile;
  vfs.mxPathname = real->mxPathname;
  vfs.zName = "weft-wal-gather";
  vfs.pAppData = real;
  vfs.xOpen = Open;
  vfs.xDelete = Delete;
  vfs.xAccess = Access;
  vfs.xFullPathname = FullPathname;
  vfs.xDlOpen = DlOpen;
  vfs.xDlError = DlError;
  vfs.xDlSym = DlSym;
  vfs.xDlClose = DlClose;
  vfs.xRandomness = Randomness;
  vfs.xSleep = Sleep;
  vfs.xCurrentTime = CurrentTime;
  vfs.xGetLastError = GetLastError;
  vfs.xCurrentTimeInt64 = CurrentTimeInt64;
  if (sqlite3_vfs_register(&vfs, 0) != SQLITE_OK) return nullptr;
  return vfs.zName;
}

}  // namespace

const char* WalGatheringVfs() {
  static const char* const name = Register();
  return name;
}

}  // namespace weft::store
