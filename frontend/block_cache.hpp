// Decoded basic blocks, cached by (physical address, decoding mode) so hot code is never decoded
// twice (DESIGN.md decision 2). Pages holding blocks are marked in PhysMemory; a write to such a
// page drops its blocks (decision 5).
#pragma once
#include <cstdint>
#include <bitset>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "frontend/insn.hpp"

namespace lift86 {

class Cpu;

struct Block {
    uint32_t phys = 0;            // physical address of the first byte
    uint32_t phys2 = kNone;       // second physical page when the last instruction crosses one
    uint32_t lin2 = 0;            // linear page the second physical page was reached through
    uint8_t mode = 0;             // bit 0: 32-bit code
    uint32_t bytes = 0;
    uint64_t execs = 0;
    std::vector<Insn> insns;
    // Where the block was first decoded (for --profile and debugging): linear address, CS:EIP
    // and CPU mode (a CpuProfile::Mode). Counted only while profiling: instructions retired by
    // executions of this block (exact, unlike execs x length: early exits count).
    uint32_t lin = 0, eip = 0;
    uint16_t cs_sel = 0;
    uint8_t cpu_mode = 0;
    uint64_t retired = 0;
    std::vector<uint8_t> code;    // the instruction bytes, kept only while profiling (keep_code)
    static constexpr uint32_t kNone = 0xFFFFFFFFu;
    // Block chaining: the blocks that followed this one, remembered with everything their
    // lookup depended on, so the next lookup skips the TLB and the hash table.
    struct Successor {
        uint32_t eip = kNone, cs_base = 0;
        uint8_t mode = 0, user = 0;
        uint64_t tlb_gen = 0, cache_gen = 0;
        Block* block = nullptr;
    };
    Successor succ[2];
    uint8_t succ_next = 0;
};

class BlockCache {
public:
    static constexpr unsigned kMaxInsns = 48;

    explicit BlockCache(Cpu& cpu);
    ~BlockCache();

    // Direct-mapped cache in front of the hash map, indexed by physical address: a Linux boot
    // keeps ~75k blocks live, and a 4096-entry array left 7% of the host's time in the map.
    static constexpr unsigned kFastEntries = 65536;
    // The block at CS:EIP in the current mode (decoded now if needed). Raises #PF/#GP on fetch.
    Block* lookup();
    // lookup()'s first fast path alone, inlined into the run loop: the remembered successor of
    // the block looked up last, when everything its lookup depended on is unchanged; else null.
    // (The caller has checked EIP against the CS limit.)
    Block* chained(uint32_t eip, uint32_t cs_base, uint8_t mode, uint8_t user, uint64_t tlb_gen) {
        Block* prev = last_;
        if (!prev) return nullptr;
        for (const Block::Successor& s : prev->succ)
            if (s.eip == eip && s.cs_base == cs_base && s.mode == mode && s.user == user && s.tlb_gen == tlb_gen &&
                s.cache_gen == gen_)
                return last_ = s.block;
        return nullptr;
    }
    void invalidate_page(uint32_t phys_page);
    // A guest store to a page that holds code: drops the page's blocks when the store touches
    // bytes that were decoded (data next to code on the same page costs no re-decoding).
    // Returns true when blocks were dropped.
    bool on_store(uint32_t phys, unsigned size);
    void flush();
    size_t size() const { return map_.size(); }
    uint64_t decoded_insns() const { return decoded_insns_; }
    uint64_t decoded_blocks() const { return decoded_blocks_; }
    uint64_t dropped_blocks() const { return dropped_blocks_; }   // invalidated one by one (SMC, remaps)
    uint64_t flushes() const { return flushes_; }

    // --profile: the block the run loop looked up last (null when it has been dropped since),
    // every live block, a hook that sees each block as it is dropped or flushed (so its counts
    // outlive it), and whether decode() keeps each block's bytes for the disassembly.
    Block* last() const { return last_; }
    template <class F> void for_each_block(F&& f) const {
        for (const auto& [k, b] : map_) f(*b);
    }
    std::function<void(const Block&)> on_drop;
    bool keep_code = false;

private:
    Block* lookup_slow();
    Block* decode(uint32_t lin, uint32_t phys, uint8_t mode);
    void retire(std::unique_ptr<Block> b);

    Cpu& cpu_;
    std::unordered_map<uint64_t, std::unique_ptr<Block>> map_;
    struct CodePage {
        std::vector<Block*> blocks;
        std::bitset<4096> bytes;   // which bytes of the page belong to decoded instructions
    };
    std::unordered_map<uint32_t, CodePage> by_page_;
    void note_code(uint32_t phys, uint32_t len, Block* b);
    Block* fast_[kFastEntries] = {};
    // Invalidated blocks may still be executing: they are freed at the next lookup.
    std::vector<std::unique_ptr<Block>> graveyard_;
    uint64_t decoded_insns_ = 0;
    uint64_t decoded_blocks_ = 0, dropped_blocks_ = 0, flushes_ = 0;
    uint64_t gen_ = 0;          // bumped whenever a block is dropped
    Block* last_ = nullptr;     // the block looked up last (its successors are recorded)
};

}  // namespace lift86
