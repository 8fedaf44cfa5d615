// Raw disk image back-end (devices/disk_image.hpp) and the -drive parser
// (devices/drive_spec.hpp): open errors, sector I/O, the zero-padded tail, the image lock,
// read-only files, -snapshot, fsync on flush.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "devices/disk_image.hpp"
#include "devices/drive_spec.hpp"

using namespace lift86;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "lift86-disk-XXXXXX").string();
        path = mkdtemp(tmpl.data());
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

// Sector `lba` of a test image: its number in the first 8 bytes, then a pattern.
std::vector<uint8_t> stamp(uint64_t lba, size_t size = 512) {
    std::vector<uint8_t> s(size);
    for (size_t i = 0; i < size; i++) s[i] = uint8_t(lba * 7 + i * 13);
    std::memcpy(s.data(), &lba, 8);
    return s;
}

std::string make_image(const fs::path& p, uint64_t sectors) {
    int fd = ::open(p.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644);
    for (uint64_t i = 0; i < sectors; i++) {
        auto s = stamp(i);
        EXPECT_EQ(::pwrite(fd, s.data(), s.size(), off_t(i * 512)), 512);
    }
    ::close(fd);
    return p.string();
}

std::vector<uint8_t> file_bytes(const std::string& p) {
    std::vector<uint8_t> v(fs::file_size(p));
    int fd = ::open(p.c_str(), O_RDONLY);
    EXPECT_EQ(::pread(fd, v.data(), v.size(), 0), ssize_t(v.size()));
    ::close(fd);
    return v;
}

std::string open_error(const std::string& path, DiskImageOptions o = {}) {
    try {
        DiskImage img(path, o);
    } catch (const DiskImageError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(DiskImage, ReadsAndWritesWholeSectors) {
    TempDir t;
    auto p = make_image(t.path / "d.img", 64);
    DiskImage img(p);
    EXPECT_EQ(img.sectors(), 64u);
    EXPECT_TRUE(img.writable());
    EXPECT_TRUE(img.notice().empty());
    std::vector<uint8_t> buf(3 * 512);
    ASSERT_TRUE(img.read(10, 3, buf.data()));
    for (int i = 0; i < 3; i++)
        EXPECT_EQ(std::vector<uint8_t>(buf.begin() + i * 512, buf.begin() + (i + 1) * 512), stamp(10 + i));
    auto s = stamp(1000);
    ASSERT_TRUE(img.write(5, 1, s.data()));
    auto f = file_bytes(p);
    EXPECT_EQ(std::vector<uint8_t>(f.begin() + 5 * 512, f.begin() + 6 * 512), s);
    EXPECT_EQ(std::vector<uint8_t>(f.begin() + 6 * 512, f.begin() + 7 * 512), stamp(6));   // neighbours untouched
}

TEST(DiskImage, AccessPastTheEndFailsWithAReason) {
    TempDir t;
    auto p = make_image(t.path / "d.img", 8);
    DiskImage img(p);
    std::vector<uint8_t> buf(1024);
    EXPECT_FALSE(img.read(7, 2, buf.data()));
    EXPECT_NE(img.last_error().find("past the end"), std::string::npos);
    EXPECT_FALSE(img.write(8, 1, buf.data()));
    EXPECT_EQ(fs::file_size(p), 8u * 512);   // a refused write does not grow the file
    EXPECT_TRUE(img.read(7, 1, buf.data()));
}

TEST(DiskImage, OpenErrorsAreOneLineAndNameTheFile) {
    TempDir t;
    std::string missing = (t.path / "nope.img").string();
    std::string e = open_error(missing);
    EXPECT_NE(e.find(missing), std::string::npos) << e;
    EXPECT_NE(e.find("No such file"), std::string::npos) << e;

    e = open_error(t.path.string());
    EXPECT_NE(e.find("is a directory"), std::string::npos) << e;
    e = open_error(t.path.string(), {.read_only = true});
    EXPECT_NE(e.find("is a directory"), std::string::npos) << e;

    std::string empty = (t.path / "empty.img").string();
    ::close(::open(empty.c_str(), O_CREAT | O_WRONLY, 0644));
    e = open_error(empty);
    EXPECT_NE(e.find(empty), std::string::npos) << e;
    EXPECT_NE(e.find("empty"), std::string::npos) << e;

    e = open_error("/dev/null");
    EXPECT_NE(e.find("not a regular file"), std::string::npos) << e;
    for (const std::string& m : {open_error(missing), open_error(empty)}) EXPECT_EQ(m.find('\n'), std::string::npos);
}

TEST(DiskImage, PartialLastSectorReadsZeroPadded) {
    TempDir t;
    std::string p = (t.path / "odd.img").string();
    std::vector<uint8_t> content(1000);
    for (size_t i = 0; i < content.size(); i++) content[i] = uint8_t(i * 3 + 1);
    int fd = ::open(p.c_str(), O_CREAT | O_WRONLY, 0644);
    ASSERT_EQ(::write(fd, content.data(), content.size()), 1000);
    ::close(fd);

    DiskImage img(p);
    EXPECT_EQ(img.sectors(), 2u);
    EXPECT_NE(img.notice().find("not a multiple of 512"), std::string::npos) << img.notice();
    std::vector<uint8_t> buf(512, 0xEE);
    ASSERT_TRUE(img.read(1, 1, buf.data()));
    for (size_t i = 0; i < 488; i++) ASSERT_EQ(buf[i], content[512 + i]) << i;
    for (size_t i = 488; i < 512; i++) ASSERT_EQ(buf[i], 0) << i;
    // Writing the last sector makes the file whole.
    auto s = stamp(1);
    ASSERT_TRUE(img.write(1, 1, s.data()));
    EXPECT_EQ(fs::file_size(p), 1024u);
    ASSERT_TRUE(img.read(1, 1, buf.data()));
    EXPECT_EQ(buf, s);
}

TEST(DiskImage, SecondWriterIsRefusedByTheLock) {
    TempDir t;
    auto p = make_image(t.path / "d.img", 4);
    {
        DiskImage first(p);
        std::string e = open_error(p);
        EXPECT_NE(e.find("in use by another process"), std::string::npos) << e;
        EXPECT_NE(e.find(p), std::string::npos) << e;
        // A reader would see the writer's half-done work: refused too.
        EXPECT_NE(open_error(p, {.read_only = true}).find("in use"), std::string::npos);
        EXPECT_NE(open_error(p, {.snapshot = true}).find("in use"), std::string::npos);
    }
    // Released with the first image: now readers share it, and they keep a writer out.
    {
        DiskImage r1(p, {.read_only = true});
        DiskImage r2(p, {.snapshot = true});
        EXPECT_NE(open_error(p).find("in use"), std::string::npos);
    }
    EXPECT_EQ(open_error(p), "");
    // The lock belongs to the open file, so it also holds against another process.
    DiskImage held(p);
    pid_t pid = fork();
    if (pid == 0) {
        bool refused = !open_error(p).empty();
        _exit(refused ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(DiskImage, ExplicitReadOnlyRefusesWrites) {
    TempDir t;
    auto p = make_image(t.path / "d.img", 4);
    auto before = file_bytes(p);
    DiskImage img(p, {.read_only = true});
    EXPECT_FALSE(img.writable());
    auto s = stamp(99);
    EXPECT_FALSE(img.write(0, 1, s.data()));
    EXPECT_NE(img.last_error().find("read-only"), std::string::npos);
    EXPECT_TRUE(img.flush());
    EXPECT_EQ(file_bytes(p), before);
}

TEST(DiskImage, UnwritableFileOpensReadOnlyWithANotice) {
    TempDir t;
    auto p = make_image(t.path / "d.img", 4);
    auto before = file_bytes(p);
    bool immutable = false;
    if (geteuid() == 0) {
        // root ignores file modes: make the file immutable instead (ext4, xfs, btrfs, tmpfs).
        int fd = ::open(p.c_str(), O_RDONLY);
        int flags = 0;
        if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0) {
            flags |= FS_IMMUTABLE_FL;
            immutable = ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0;
        }
        ::close(fd);
        if (!immutable) GTEST_SKIP() << "running as root on a file system without the immutable flag";
    } else {
        ::chmod(p.c_str(), 0444);
    }
    {
        DiskImage img(p);
        EXPECT_FALSE(img.writable());
        EXPECT_NE(img.notice().find("not writable"), std::string::npos) << img.notice();
        std::vector<uint8_t> buf(512);
        EXPECT_TRUE(img.read(2, 1, buf.data()));
        EXPECT_EQ(buf, stamp(2));
        EXPECT_FALSE(img.write(2, 1, stamp(5).data()));
    }
    if (immutable) {
        int fd = ::open(p.c_str(), O_RDONLY);
        int flags = 0;
        ioctl(fd, FS_IOC_GETFLAGS, &flags);
        flags &= ~FS_IMMUTABLE_FL;
        ioctl(fd, FS_IOC_SETFLAGS, &flags);
        ::close(fd);
    }
    EXPECT_EQ(file_bytes(p), before);
}

TEST(DiskImage, SnapshotKeepsWritesInMemory) {
    TempDir t;
    auto p = make_image(t.path / "d.img", 16);
    auto before = file_bytes(p);
    {
        DiskImage img(p, {.snapshot = true});
        EXPECT_TRUE(img.writable());
        std::vector<uint8_t> two(1024);
        auto a = stamp(500), b = stamp(501);
        std::memcpy(two.data(), a.data(), 512);
        std::memcpy(two.data() + 512, b.data(), 512);
        ASSERT_TRUE(img.write(4, 2, two.data()));
        // A read that spans overlay and file sectors sees both.
        std::vector<uint8_t> buf(4 * 512);
        ASSERT_TRUE(img.read(3, 4, buf.data()));
        EXPECT_EQ(std::vector<uint8_t>(buf.begin(), buf.begin() + 512), stamp(3));
        EXPECT_EQ(std::vector<uint8_t>(buf.begin() + 512, buf.begin() + 1024), a);
        EXPECT_EQ(std::vector<uint8_t>(buf.begin() + 1024, buf.begin() + 1536), b);
        EXPECT_EQ(std::vector<uint8_t>(buf.begin() + 1536, buf.end()), stamp(6));
        // Unaligned byte reads across the overlay boundary.
        std::vector<uint8_t> bytes(100);
        ASSERT_TRUE(img.read_bytes(4 * 512 - 50, bytes.data(), 100));
        EXPECT_TRUE(std::equal(bytes.begin(), bytes.begin() + 50, stamp(3).end() - 50));
        EXPECT_TRUE(std::equal(bytes.begin() + 50, bytes.end(), a.begin()));
        EXPECT_TRUE(img.flush());
        EXPECT_EQ(img.fsync_count(), 0u);
    }
    EXPECT_EQ(file_bytes(p), before);
}

TEST(DiskImage, FlushIsFsync) {
    TempDir t;
    auto p = make_image(t.path / "d.img", 4);
    DiskImage img(p);
    EXPECT_EQ(img.fsync_count(), 0u);
    ASSERT_TRUE(img.write(1, 1, stamp(77).data()));
    ASSERT_TRUE(img.flush());
    EXPECT_EQ(img.fsync_count(), 1u);
}

// ---------------------------------------------------------------------------------------------
// -drive parsing

TEST(DriveSpec, ParsesQemuSpelling) {
    DriveSpec d = parse_drive_spec("file=disk.img,format=raw,if=ide");
    EXPECT_EQ(d.file, "disk.img");
    EXPECT_EQ(d.media, DriveSpec::Media::Disk);
    EXPECT_EQ(d.index, -1);
    EXPECT_FALSE(d.read_only);

    d = parse_drive_spec("file=a,,b.iso,media=cdrom,index=3");
    EXPECT_EQ(d.file, "a,b.iso");   // ",," is a comma inside a value
    EXPECT_EQ(d.media, DriveSpec::Media::Cdrom);
    EXPECT_EQ(d.index, 3);
    EXPECT_EQ(d.channel(), 1);
    EXPECT_EQ(d.position(), 1);
    EXPECT_TRUE(d.read_only);

    d = parse_drive_spec("if=ide,bus=1,unit=0,file=x.img,readonly=on,snapshot=on");
    EXPECT_EQ(d.index, 2);
    EXPECT_TRUE(d.read_only);
    EXPECT_TRUE(d.snapshot);

    d = parse_drive_spec("if=ide,media=cdrom");   // an empty CD-ROM drive
    EXPECT_TRUE(d.file.empty());
}

TEST(DriveSpec, RejectsWhatIsNotSupportedByName) {
    auto error = [](const char* s) -> std::string {
        try {
            parse_drive_spec(s);
        } catch (const DriveSpecError& e) {
            return e.what();
        }
        return "";
    };
    EXPECT_NE(error("file=a.qcow2,format=qcow2").find("format 'qcow2'"), std::string::npos);
    EXPECT_NE(error("file=a,if=virtio").find("interface 'virtio'"), std::string::npos);
    EXPECT_NE(error("file=a,cache=none").find("unknown option 'cache'"), std::string::npos);
    EXPECT_NE(error("file=a,media=floppy").find("'floppy'"), std::string::npos);
    EXPECT_NE(error("file=a,index=4").find("out of range"), std::string::npos);
    EXPECT_NE(error("file=a,readonly=maybe").find("'on' or 'off'"), std::string::npos);
    EXPECT_NE(error("format=raw").find("file= is missing"), std::string::npos);
    EXPECT_NE(error("disk.img").find("not key=value"), std::string::npos);
}

TEST(DriveSpec, AssignsFreeIndexesInOrder) {
    std::vector<DriveSpec> v = {parse_drive_spec("file=a"), legacy_drive("cdrom", "c.iso"), parse_drive_spec("file=b")};
    assign_drive_indexes(v);
    EXPECT_EQ(v[0].index, 0);
    EXPECT_EQ(v[1].index, 2);
    EXPECT_EQ(v[1].media, DriveSpec::Media::Cdrom);
    EXPECT_EQ(v[2].index, 1);

    std::vector<DriveSpec> clash = {legacy_drive("hdc", "x"), legacy_drive("cdrom", "y")};
    EXPECT_THROW(assign_drive_indexes(clash), DriveSpecError);
    std::vector<DriveSpec> five(5, parse_drive_spec("file=z"));
    EXPECT_THROW(assign_drive_indexes(five), DriveSpecError);
    EXPECT_THROW(legacy_drive("hde", "x"), DriveSpecError);
}
