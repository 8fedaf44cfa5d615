#include "devices/disk_image.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace lift86 {

namespace {

std::string errno_text(int e) { return std::strerror(e); }

// The advisory lock, in QEMU's protocol (block/file-posix.c raw_apply_lock_bytes /
// raw_check_lock_bytes), so lift86 and QEMU running on the same image see each other: every
// user takes a shared lock on byte 100+p for each permission p it uses and on byte 200+p for each
// permission it does not let others have. A user conflicts when someone holds 200+p for a p it
// uses, or 100+p for a p it refuses to share. Permissions (QEMU's BLK_PERM_* bit numbers):
// 0 consistent read, 1 write, 2 write-unchanged, 3 resize. lift86 refuses to share write and
// resize (QEMU's share-rw=off), so a writer excludes every other user, readers share with readers.
// A lock on the whole file instead would look to QEMU as if lift86 refused everything, even to
// another reader. OFD locks belong to the open file description, so they also conflict between
// two opens in one process (a second drive on the same image).
// Returns 0, or the errno of a conflict; lock-less file systems (ENOLCK/EINVAL/ENOTSUP) are
// treated as success: there is nothing better to do.
int take_lock(int fd, bool writer) {
#ifdef F_OFD_SETLK
    constexpr off_t kPermBase = 100, kSharedBase = 200;
    enum : unsigned { kRead = 1u << 0, kWrite = 1u << 1, kWriteUnchanged = 1u << 2, kResize = 1u << 3 };
    const unsigned used = writer ? kRead | kWrite | kWriteUnchanged : kRead;
    const unsigned unshared = kWrite | kResize;
    auto lock_byte = [fd](off_t at, int cmd, short type) -> int {
        struct flock fl {};
        fl.l_type = type;
        fl.l_whence = SEEK_SET;
        fl.l_start = at;
        fl.l_len = 1;
        if (fcntl(fd, cmd, &fl) != 0) return errno;
        return cmd == F_OFD_GETLK && fl.l_type != F_UNLCK ? EAGAIN : 0;
    };
    for (unsigned bit = 0; bit < 4; bit++) {
        if (used & (1u << bit))
            if (int e = lock_byte(kPermBase + bit, F_OFD_SETLK, F_RDLCK)) return e;
        if (unshared & (1u << bit))
            if (int e = lock_byte(kSharedBase + bit, F_OFD_SETLK, F_RDLCK)) return e;
    }
    // Someone else refusing what we use, or using what we refuse (a write-lock probe finds any
    // other holder's shared lock; our own OFD locks never conflict with ourselves).
    for (unsigned bit = 0; bit < 4; bit++) {
        if (used & (1u << bit))
            if (int e = lock_byte(kSharedBase + bit, F_OFD_GETLK, F_WRLCK)) return e;
        if (unshared & (1u << bit))
            if (int e = lock_byte(kPermBase + bit, F_OFD_GETLK, F_WRLCK)) return e;
    }
    return 0;
#else
    if (flock(fd, (writer ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0) return 0;
    return errno == EWOULDBLOCK ? errno : 0;
#endif
}

}  // namespace

DiskImage::DiskImage(const std::string& path, DiskImageOptions opts) : path_(path), opts_(opts) {
    if (path.empty()) throw DiskImageError("disk image: empty file name");
    const bool want_write = !opts.read_only && !opts.snapshot;
    bool fell_back = false;
    if (want_write) {
        fd_ = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
        if (fd_ < 0 && (errno == EACCES || errno == EPERM || errno == EROFS || errno == ETXTBSY)) {
            fell_back = true;
        } else if (fd_ < 0 && errno == EISDIR) {
            throw DiskImageError(fmt::format("'{}' is a directory, not a disk image", path));
        } else if (fd_ < 0) {
            throw DiskImageError(fmt::format("cannot open disk image '{}': {}", path, errno_text(errno)));
        }
    }
    if (fd_ < 0) {
        fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd_ < 0) throw DiskImageError(fmt::format("cannot open disk image '{}': {}", path, errno_text(errno)));
    }
    // From here on the descriptor must be closed on every error path.
    struct Closer {
        int& fd;
        bool armed = true;
        ~Closer() { if (armed && fd >= 0) { ::close(fd); fd = -1; } }
    } closer{fd_};

    struct stat st {};
    if (fstat(fd_, &st) != 0)
        throw DiskImageError(fmt::format("cannot examine disk image '{}': {}", path, errno_text(errno)));
    if (S_ISDIR(st.st_mode)) throw DiskImageError(fmt::format("'{}' is a directory, not a disk image", path));
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
        throw DiskImageError(fmt::format("'{}' is not a regular file or block device", path));
    off_t end = ::lseek(fd_, 0, SEEK_END);
    if (end < 0) throw DiskImageError(fmt::format("cannot find the size of '{}': {}", path, errno_text(errno)));
    file_bytes_ = uint64_t(end);
    if (file_bytes_ == 0) throw DiskImageError(fmt::format("disk image '{}' is empty (0 bytes)", path));
    // An unreadable file (e.g. a directory on some systems, or a broken device) fails here
    // rather than at the guest's first read.
    uint8_t probe[1];
    if (::pread(fd_, probe, 1, 0) != 1)
        throw DiskImageError(fmt::format("cannot read disk image '{}': {}", path, errno_text(errno)));

    writable_ = (want_write && !fell_back) || opts.snapshot;
    if (opts.lock) {
        const bool exclusive = want_write && !fell_back;
        if (int e = take_lock(fd_, exclusive)) {
            (void)e;
            throw DiskImageError(fmt::format(
                "disk image '{}' is in use by another process or drive (a writer needs it alone; "
                "readers, -snapshot included, can share it)",
                path));
        }
    }

    sectors_ = (file_bytes_ + kSectorSize - 1) / kSectorSize;
    if (fell_back)
        notice_ = fmt::format("'{}' is not writable: opened read-only, guest writes to it will fail", path);
    if (file_bytes_ % kSectorSize)
        notice_ += fmt::format("{}'{}' is {} bytes, not a multiple of 512: its last sector reads zero-padded",
                               notice_.empty() ? "" : "; ", path, file_bytes_);
    closer.armed = false;
}

DiskImage::~DiskImage() {
    if (fd_ >= 0) ::close(fd_);   // releases the lock
}

bool DiskImage::fail(const std::string& what) {
    last_error_ = what;
    return false;
}

bool DiskImage::pread_all(uint64_t offset, uint8_t* dst, size_t n) {
    // Bytes past the end of the host file (the zero-padded tail) read as zeros.
    size_t in_file = offset >= file_bytes_ ? 0 : size_t(std::min<uint64_t>(n, file_bytes_ - offset));
    size_t done = 0;
    while (done < in_file) {
        ssize_t r = ::pread(fd_, dst + done, in_file - done, off_t(offset + done));
        if (r < 0) {
            if (errno == EINTR) continue;
            return fail(fmt::format("read of '{}' at byte {} failed: {}", path_, offset + done, errno_text(errno)));
        }
        if (r == 0) break;   // the file shrank under us: the rest reads as zeros
        done += size_t(r);
    }
    std::memset(dst + done, 0, n - done);
    return true;
}

bool DiskImage::read_bytes(uint64_t offset, void* dst_v, size_t n) {
    auto* dst = static_cast<uint8_t*>(dst_v);
    if (offset > size_bytes() || n > size_bytes() - offset)
        return fail(fmt::format("read past the end of '{}'", path_));
    if (overlay_.empty()) return pread_all(offset, dst, n);
    // -snapshot with written sectors: take each sector from the overlay when it is there,
    // reading runs of untouched sectors from the file in one go.
    while (n > 0) {
        uint64_t sec = offset / kSectorSize;
        size_t within = size_t(offset % kSectorSize);
        size_t chunk = std::min<size_t>(n, kSectorSize - within);
        auto it = overlay_.find(sec);
        if (it != overlay_.end()) {
            std::memcpy(dst, it->second.get() + within, chunk);
        } else {
            // Extend the run while the following sectors are not in the overlay.
            size_t run = chunk;
            while (run < n && !overlay_.count((offset + run) / kSectorSize))
                run += std::min<size_t>(n - run, kSectorSize);
            if (!pread_all(offset, dst, run)) return false;
            chunk = run;
        }
        dst += chunk;
        offset += chunk;
        n -= chunk;
    }
    return true;
}

bool DiskImage::read(uint64_t lba, uint32_t count, void* dst) {
    if (lba > sectors_ || count > sectors_ - lba)
        return fail(fmt::format("read of sectors {}+{} is past the end of '{}' ({} sectors)", lba, count, path_, sectors_));
    return read_bytes(lba * kSectorSize, dst, size_t(count) * kSectorSize);
}

bool DiskImage::write(uint64_t lba, uint32_t count, const void* src_v) {
    const auto* src = static_cast<const uint8_t*>(src_v);
    if (lba > sectors_ || count > sectors_ - lba)
        return fail(fmt::format("write of sectors {}+{} is past the end of '{}' ({} sectors)", lba, count, path_, sectors_));
    if (!writable_) return fail(fmt::format("'{}' is read-only", path_));
    if (opts_.snapshot) {
        for (uint32_t i = 0; i < count; i++) {
            auto& slot = overlay_[lba + i];
            if (!slot) slot = std::make_unique<uint8_t[]>(kSectorSize);
            std::memcpy(slot.get(), src + size_t(i) * kSectorSize, kSectorSize);
        }
        return true;
    }
    const uint64_t offset = lba * kSectorSize;
    const size_t n = size_t(count) * kSectorSize;
    size_t done = 0;
    while (done < n) {
        ssize_t w = ::pwrite(fd_, src + done, n - done, off_t(offset + done));
        if (w < 0) {
            if (errno == EINTR) continue;
            return fail(fmt::format("write to '{}' at byte {} failed: {}", path_, offset + done, errno_text(errno)));
        }
        if (w == 0) return fail(fmt::format("write to '{}' at byte {} made no progress", path_, offset + done));
        done += size_t(w);
    }
    // Writing the zero-padded last sector extends the file to a whole sector.
    file_bytes_ = std::max<uint64_t>(file_bytes_, offset + n);
    return true;
}

bool DiskImage::flush() {
    if (opts_.snapshot || !writable_) return true;
    while (::fsync(fd_) != 0) {
        if (errno == EINTR) continue;
        return fail(fmt::format("fsync of '{}' failed: {}", path_, errno_text(errno)));
    }
    fsync_count_++;
    return true;
}

}  // namespace lift86
