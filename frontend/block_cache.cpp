#include "frontend/block_cache.hpp"

#include <algorithm>

#include "frontend/cpu.hpp"
#include "frontend/cpu_profile.hpp"
#include "frontend/decoder.hpp"

namespace lift86 {

BlockCache::BlockCache(Cpu& cpu) : cpu_(cpu) {}
BlockCache::~BlockCache() = default;

static unsigned fast_slot(uint32_t phys);
static uint64_t key_of(uint32_t phys, uint8_t mode) { return uint64_t(phys) | (uint64_t(mode) << 32); }

Block* BlockCache::lookup() {
    if (!graveyard_.empty()) graveyard_.clear();
    Cpu& c = cpu_;
    const Segment& cs = c.seg[CS];
    if (c.eip > cs.limit) c.fault(kGP, 0);   // SDM vol.3 5.3: fetch beyond the CS limit
    const uint8_t mode_now = c.code32 ? 1 : 0;
    Block* prev = last_;
    if (prev) {
        for (const Block::Successor& s : prev->succ) {
            if (s.eip == c.eip && s.cs_base == cs.base && s.mode == mode_now && s.user == c.mmu_user &&
                s.tlb_gen == c.tlb.generation && s.cache_gen == gen_)
                return last_ = s.block;
        }
    }
    Block* b = lookup_slow();
    if (prev && last_ == prev) {   // prev survived the slow lookup (decoding can drop blocks)
        Block::Successor& s = prev->succ[prev->succ_next];
        prev->succ_next ^= 1;
        s = Block::Successor{c.eip, cs.base, mode_now, c.mmu_user, c.tlb.generation, gen_, b};
    }
    return last_ = b;
}

Block* BlockCache::lookup_slow() {
    Cpu& c = cpu_;
    const Segment& cs = c.seg[CS];
    uint32_t lin = cs.base + c.eip;
    uint32_t phys;
    TlbEntry& e = c.tlb.at(c.mmu_user, Tlb::kRead, lin);
    if (e.tag == (lin & ~kPageMask))
        phys = e.phys | (lin & kPageMask);
    else
        phys = c.translate(lin, false, c.mmu_user, true);
    phys &= c.mem.a20_mask();
    uint8_t mode = c.code32 ? 1 : 0;
    unsigned slot = fast_slot(phys);
    Block* b = fast_[slot];
    if (!b || b->phys != phys || b->mode != mode) {
        auto it = map_.find(key_of(phys, mode));
        b = it != map_.end() ? it->second.get() : decode(lin, phys, mode);
        fast_[slot] = b;
    }
    if (b->phys2 != Block::kNone) {
        // The block's tail lives on another page: valid only while the same linear page still
        // maps to it.
        uint32_t lin2 = lin + (b->lin2 - (lin & ~kPageMask));
        uint32_t p2 = c.translate(lin2, false, c.mmu_user, true) & ~kPageMask;
        if (p2 != b->phys2) {
            invalidate_page(phys & ~kPageMask);
            return lookup_slow();
        }
    }
    return b;
}

Block* BlockCache::decode(uint32_t lin, uint32_t phys, uint8_t mode) {
    auto blk = std::make_unique<Block>();
    blk->phys = phys;
    blk->mode = mode;
    blk->lin = lin;
    blk->eip = cpu_.eip;
    blk->cs_sel = cpu_.seg[CS].sel;
    blk->cpu_mode = CpuProfile::mode_of(cpu_.pe, cpu_.vm86, cpu_.cpl, cpu_.code32);
    const uint32_t page_end = (lin & ~kPageMask) + kPageSize;
    uint32_t cur = lin;
    uint8_t buf[16];
    while (blk->insns.size() < kMaxInsns) {
        // Fetch up to 15 bytes, but never touch the next page unless this instruction needs it.
        unsigned avail = std::min<uint32_t>(15, page_end - cur);
        cpu_.fetch_code(cur, buf, avail);
        Insn insn;
        DecodeStatus st = decode_insn(buf, avail, mode & 1, insn);
        if (st == DecodeStatus::NeedMoreBytes) {
            if (cur != lin && page_end - cur < 15) break;   // let it start its own block
            cpu_.fetch_code(cur, buf, 15);                    // may raise #PF on the next page
            st = decode_insn(buf, 15, mode & 1, insn);
            if (st == DecodeStatus::Ok && cur + insn.len > page_end) {
                blk->lin2 = page_end;
                blk->phys2 = cpu_.translate(page_end, false, cpu_.mmu_user, true) & ~kPageMask;
                insn.flags |= insn_flag::ENDS_BLOCK;
            }
        }
        blk->insns.push_back(insn);
        if (keep_code) blk->code.insert(blk->code.end(), buf, buf + insn.len);
        cur += insn.len;
        if (insn.flags & insn_flag::ENDS_BLOCK) break;
        if (cur >= page_end) break;
    }
    blk->bytes = cur - lin;
    decoded_insns_ += blk->insns.size();
    decoded_blocks_++;
    Block* raw = blk.get();
    const uint32_t first_len = std::min<uint32_t>(blk->bytes, kPageSize - (phys & kPageMask));
    note_code(phys, first_len, raw);
    if (blk->phys2 != Block::kNone) note_code(blk->phys2, blk->bytes - first_len, raw);
    map_[key_of(phys, mode)] = std::move(blk);
    return raw;
}

static unsigned fast_slot(uint32_t phys) { return (phys ^ (phys >> 16)) & (BlockCache::kFastEntries - 1); }

void BlockCache::retire(std::unique_ptr<Block> b) {
    Block*& f = fast_[fast_slot(b->phys)];   // a block only ever sits in its own slot
    if (f == b.get()) f = nullptr;
    if (last_ == b.get()) last_ = nullptr;
    gen_++;
    dropped_blocks_++;
    if (on_drop) on_drop(*b);
    graveyard_.push_back(std::move(b));
}

void BlockCache::note_code(uint32_t phys, uint32_t len, Block* b) {
    CodePage& p = by_page_[phys & ~kPageMask];
    p.blocks.push_back(b);
    for (uint32_t k = 0; k < len; k++) p.bytes.set((phys & kPageMask) + k);
    cpu_.mem.mark_code(phys);
}

bool BlockCache::on_store(uint32_t phys, unsigned size) {
    for (unsigned k = 0; k < size; k++) {
        uint32_t a = phys + k;
        auto it = by_page_.find(a & ~kPageMask);
        if (it != by_page_.end() && it->second.bytes.test(a & kPageMask)) {
            invalidate_page(a & ~kPageMask);
            return true;
        }
    }
    return false;
}

void BlockCache::invalidate_page(uint32_t page) {
    auto it = by_page_.find(page);
    if (it == by_page_.end()) return;
    std::vector<Block*> victims = std::move(it->second.blocks);
    by_page_.erase(it);
    cpu_.mem.clear_code(page);
    for (Block* b : victims) {
        auto m = map_.find(key_of(b->phys, b->mode));
        if (m == map_.end() || m->second.get() != b) continue;   // already gone via its other page
        // Unlink from the other page it may straddle.
        for (uint32_t other : {b->phys & ~kPageMask, b->phys2}) {
            if (other == page || other == Block::kNone) continue;
            auto o = by_page_.find(other);
            if (o != by_page_.end()) std::erase(o->second.blocks, b);   // its bytes stay marked: harmless
        }
        retire(std::move(m->second));
        map_.erase(m);
    }
}

void BlockCache::flush() {
    gen_++;
    last_ = nullptr;
    flushes_++;
    if (on_drop)
        for (auto& [k, b] : map_) on_drop(*b);
    for (auto& [k, b] : map_) graveyard_.push_back(std::move(b));
    map_.clear();
    for (auto& [page, p] : by_page_) cpu_.mem.clear_code(page);
    by_page_.clear();
    std::fill(std::begin(fast_), std::end(fast_), nullptr);
}

}  // namespace lift86
