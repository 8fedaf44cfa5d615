// A raw disk image file as the back-end of an IDE drive (ATA disk: 512-byte sectors; ATAPI
// CD-ROM: 2048-byte sectors through read_bytes()).
//
// Opening (all failures throw DiskImageError with one line that names the file; the CLI
// prints "lift86: " + what() and exits with status 2):
//   - missing file, permission denied, a directory, something that is neither a regular file
//     nor a block device, an empty file;
//   - a file another process holds: the image is locked with an open-file-description lock
//     (F_OFD_SETLK; flock() where OFD locks do not exist) for the life of the object — a write
//     lock when the guest may write the file, a read lock otherwise (read-only, -snapshot,
//     CD-ROM) — so two lift86 processes never write one image, and a reader never sees a
//     writer's half-done work. (QEMU's image locking follows the same rule.)
// A file that cannot be opened for writing (permissions, read-only file system, immutable)
// is opened read-only instead: guest writes then fail (the ATA disk reports ABRT), and
// notice() says so.
//
// -snapshot: the file is opened read-only and never written; guest writes go to an in-memory
// copy-on-write overlay of 512-byte sectors that is dropped when the object is destroyed.
//
// Size: sectors() counts 512-byte sectors, rounded UP. A file whose size is not a multiple of
// 512 bytes keeps working: the missing tail of the last sector reads as zeros (notice() says
// so), and writing that sector extends the file to a whole sector, as QEMU does.
//
// Reads and writes use pread/pwrite, retried on EINTR and short transfers. A write is either
// wholly done or reported as failed (never "successful" with part of the data missing);
// failures return false and leave a one-line reason in last_error(). flush() is fsync(): after
// it returns true the data written so far is on stable storage (FLUSH CACHE relies on this).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>

namespace lift86 {

class DiskImageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct DiskImageOptions {
    bool read_only = false;   // never write the file; guest writes fail (readonly=on, CD-ROMs)
    bool snapshot = false;    // never write the file; guest writes go to a memory overlay
    bool lock = true;         // take the advisory lock described above
};

class DiskImage {
public:
    static constexpr uint32_t kSectorSize = 512;

    DiskImage(const std::string& path, DiskImageOptions opts = {});
    ~DiskImage();
    DiskImage(const DiskImage&) = delete;
    DiskImage& operator=(const DiskImage&) = delete;

    const std::string& path() const { return path_; }
    // Size the guest sees, in bytes: the file size rounded up to a whole 512-byte sector.
    uint64_t size_bytes() const { return sectors_ * kSectorSize; }
    uint64_t sectors() const { return sectors_; }
    // True when guest writes can succeed (to the file, or to the overlay in -snapshot mode).
    bool writable() const { return writable_; }
    bool snapshot() const { return opts_.snapshot; }
    // A one-line remark for the user, or "" (read-only fallback, zero-padded tail).
    const std::string& notice() const { return notice_; }

    // Sector I/O. Fails (false, last_error()) past the end, on a read-only image (write), or
    // on a host I/O error.
    bool read(uint64_t lba, uint32_t count, void* dst);
    bool write(uint64_t lba, uint32_t count, const void* src);
    // Byte-granular read within size_bytes() (the zero-padded tail included).
    bool read_bytes(uint64_t offset, void* dst, size_t n);
    // fsync(); true with nothing to do for a read-only or -snapshot image.
    bool flush();

    const std::string& last_error() const { return last_error_; }
    // Number of successful flush() calls that reached fsync (tests check FLUSH CACHE with it).
    uint64_t fsync_count() const { return fsync_count_; }

private:
    bool fail(const std::string& what);
    bool pread_all(uint64_t offset, uint8_t* dst, size_t n);   // zero-fills past end of file

    std::string path_;
    DiskImageOptions opts_;
    int fd_ = -1;
    bool writable_ = false;
    uint64_t file_bytes_ = 0;   // current length of the host file
    uint64_t sectors_ = 0;
    std::string notice_;
    std::string last_error_;
    uint64_t fsync_count_ = 0;
    std::unordered_map<uint64_t, std::unique_ptr<uint8_t[]>> overlay_;   // -snapshot sectors
};

}  // namespace lift86
