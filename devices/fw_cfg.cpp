#include "devices/fw_cfg.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace lift86 {

namespace {
constexpr char kDmaSignature[8] = {'Q', 'E', 'M', 'U', ' ', 'C', 'F', 'G'};

uint32_t bswap32(uint32_t v) {
    return (v >> 24) | ((v >> 8) & 0xFF00u) | ((v << 8) & 0xFF0000u) | (v << 24);
}
uint32_t be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }
uint64_t be64(const uint8_t* p) { return uint64_t(be32(p)) << 32 | be32(p + 4); }
void put_be32(uint8_t* p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = uint8_t(v >> (24 - 8 * i));
}
template <typename T>
std::vector<uint8_t> le_bytes(T v) {
    std::vector<uint8_t> b(sizeof(T));
    for (size_t i = 0; i < sizeof(T); i++) b[i] = uint8_t(uint64_t(v) >> (8 * i));
    return b;
}
bool is_file_key(uint16_t key) { return !(key & FwCfg::kArchLocal) && (key & 0x3FFF) >= FwCfg::kFileFirst; }
}  // namespace

FwCfg::FwCfg(PortBus& io, PhysMemory& mem) : io_(io), mem_(mem) {
    add_item(kSignature, {'Q', 'E', 'M', 'U'});
    add_u32(kId, kIdTraditional | kIdDma);
    add_item(kUuid, std::vector<uint8_t>(16, 0));
    add_u64(kRamSize, mem.ram_size());
    add_u16(kNoGraphic, 0);
    add_u16(kBootMenu, 0);
    set_cpus(1, 1);
    // hw/i386/fw_cfg.c: the PIT's IRQ0 reaches I/O APIC pin 2 (an interrupt source override).
    add_u32(kIrq0Override, 1);
    rebuild_dir();
    io_.register_ports(kPortSelector, 2, this);
    io_.register_ports(kPortDma, 8, this);
}

FwCfg::~FwCfg() {
    io_.unregister_ports(kPortSelector, 2);
    io_.unregister_ports(kPortDma, 8);
}

void FwCfg::add_item(uint16_t key, std::vector<uint8_t> bytes) {
    key &= uint16_t(~kWriteChannel);
    if (is_file_key(key)) throw std::invalid_argument("fw_cfg: keys 0x20-0x3fff belong to named files");
    items_[key] = std::move(bytes);
}

void FwCfg::add_u16(uint16_t key, uint16_t v) { add_item(key, le_bytes(v)); }
void FwCfg::add_u32(uint16_t key, uint32_t v) { add_item(key, le_bytes(v)); }
void FwCfg::add_u64(uint16_t key, uint64_t v) { add_item(key, le_bytes(v)); }

void FwCfg::set_cpus(uint16_t nb_cpus, uint16_t max_cpus) {
    add_u16(kNbCpus, nb_cpus);
    add_u16(kMaxCpus, max_cpus);
    // hw/i386/fw_cfg.c: u64 node count, then one u64 node number per CPU, then one u64 size
    // per node; all zero without -numa.
    add_item(kNuma, std::vector<uint8_t>((1 + size_t(max_cpus)) * 8, 0));
}

void FwCfg::add_file(const std::string& name, std::vector<uint8_t> bytes) {
    if (name.empty() || name.size() > kMaxNameLen || name.find('\0') != std::string::npos)
        throw std::invalid_argument("fw_cfg: file name must be 1-55 characters: '" + name + "'");
    auto it = std::lower_bound(files_.begin(), files_.end(), name,
                               [](const auto& f, const std::string& n) { return f.first < n; });
    if (it != files_.end() && it->first == name) {
        it->second = std::move(bytes);
    } else {
        if (files_.size() >= 0x4000u - kFileFirst) throw std::invalid_argument("fw_cfg: too many files");
        files_.insert(it, {name, std::move(bytes)});
    }
    rebuild_dir();
}

void FwCfg::rebuild_dir() {
    // FWCfgFiles: be32 count, then per file be32 size, be16 select, u16 reserved, name[56].
    std::vector<uint8_t> dir(4 + 64 * files_.size(), 0);
    put_be32(dir.data(), uint32_t(files_.size()));
    for (size_t i = 0; i < files_.size(); i++) {
        uint8_t* e = dir.data() + 4 + 64 * i;
        put_be32(e, uint32_t(files_[i].second.size()));
        const uint16_t key = uint16_t(kFileFirst + i);
        e[4] = uint8_t(key >> 8);
        e[5] = uint8_t(key);
        std::memcpy(e + 8, files_[i].first.data(), files_[i].first.size());
    }
    items_[kFileDir] = std::move(dir);
}

const std::vector<uint8_t>* FwCfg::item(uint16_t key) const {
    key &= uint16_t(~kWriteChannel);
    if (is_file_key(key)) {
        const size_t i = size_t(key & 0x3FFF) - kFileFirst;
        return i < files_.size() ? &files_[i].second : nullptr;
    }
    auto it = items_.find(key);
    return it != items_.end() ? &it->second : nullptr;
}

int FwCfg::file_key(const std::string& name) const {
    for (size_t i = 0; i < files_.size(); i++)
        if (files_[i].first == name) return int(kFileFirst + i);
    return -1;
}

void FwCfg::reset() {
    select(kSignature);
    dma_addr_ = 0;
}

void FwCfg::select(uint16_t key) {
    key_ = key;
    offset_ = 0;
}

uint8_t FwCfg::read_data() {
    // "After the data offset has passed the end of this maximum data length, then any reads
    // will return a data value of 0x00" (fw_cfg.rst); the offset then stays where it is.
    const std::vector<uint8_t>* e = item(key_);
    if (!e || offset_ >= e->size()) return 0;
    return (*e)[offset_++];
}

uint32_t FwCfg::io_read(uint16_t port, unsigned size) {
    if (port >= kPortDma) {
        // The DMA address register reads as the big-endian signature "QEMU CFG": byte k of
        // the register is character k.
        uint32_t v = 0;
        for (unsigned i = 0; i < size; i++) {
            const unsigned k = unsigned(port - kPortDma) + i;
            v |= uint32_t(k < 8 ? uint8_t(kDmaSignature[k]) : 0xFF) << (8 * i);
        }
        return v;
    }
    // 0x510/0x511 form one 2-byte region in QEMU (fw_cfg_comb_*): a byte read at either is
    // a data read. QEMU rejects wider reads; they read 0 here.
    if (size == 1) return read_data();
    return 0;
}

void FwCfg::io_write(uint16_t port, uint32_t value, unsigned size) {
    if (port >= kPortDma) {
        // The register is big-endian: the guest writes cpu_to_be32(half), so the bytes it
        // puts on the bus are the half's bytes from the most significant one.
        if (size != 4) return;
        if (port == kPortDma) {
            dma_addr_ = uint64_t(bswap32(value)) << 32;
        } else if (port == kPortDma + 4) {
            dma_addr_ |= bswap32(value);
            const uint64_t a = dma_addr_;
            dma_addr_ = 0;   // "0 at startup and after an operation"
            dma_transfer(a);
        }
        return;
    }
    // A 16-bit write selects; byte writes to the data register are ignored since QEMU 2.4.
    if (port == kPortSelector && size == 2) select(uint16_t(value));
}

void FwCfg::dma_transfer(uint64_t access_addr) {
    constexpr uint64_t k4G = uint64_t(1) << 32;
    if (access_addr + 16 > k4G) return;   // no memory up there to read the request from
    uint8_t req[16];
    mem_.read_block(PhysAddr(access_addr), req, sizeof req);
    uint32_t control = be32(req);
    uint32_t length = be32(req + 4);
    uint64_t address = be64(req + 8);

    if (control & kDmaSelect) select(uint16_t(control >> 16));
    bool read = false, write = false;
    if (control & kDmaRead) {
        read = true;
    } else if (control & kDmaWrite) {
        write = true;
    } else if (!(control & kDmaSkip)) {
        length = 0;   // nothing asked for
    }

    const std::vector<uint8_t>* e = item(key_);
    uint32_t status = 0;
    while (length > 0 && !(status & kDmaError)) {
        uint32_t len;
        if (!e || offset_ >= e->size()) {
            // Past the end: a read fills the rest with zeros, a write fails, a skip is done.
            len = length;
            if (read) {
                if (address + len > k4G) {
                    status |= kDmaError;
                } else {
                    // In pages: a guest asking for gigabytes must not make the host allocate them.
                    static const uint8_t zeros[4096] = {};
                    for (uint64_t done = 0; done < len;) {
                        uint32_t n = uint32_t(std::min<uint64_t>(sizeof zeros, len - done));
                        mem_.write_block(PhysAddr(address + done), zeros, n);
                        done += n;
                    }
                }
            }
            if (write) status |= kDmaError;
        } else {
            len = std::min<uint32_t>(length, uint32_t(e->size() - offset_));
            if (read) {
                if (address + len > k4G)
                    status |= kDmaError;
                else
                    mem_.write_block(PhysAddr(address), e->data() + offset_, len);
            }
            // Every item here is read-only to the guest, as QEMU's files added by the
            // machine are: a write is rejected with the error bit.
            if (write) status |= kDmaError;
            offset_ += len;
        }
        address += len;
        length -= len;
    }
    // Completion: the control field is rewritten (0 = done, bit 0 = error); SeaBIOS polls it.
    uint8_t done[4];
    put_be32(done, status);
    mem_.write_block(PhysAddr(access_addr), done, 4);
}

}  // namespace lift86
