/*
 * The kernel's backtrace unwinder (backtrace.h): DWARF call-frame
 * information from the kernel's own .eh_frame (gcc writes it with
 * -fasynchronous-unwind-tables, which leaves the code as it is; linker.ld
 * keeps it), read only when something has gone wrong.  For a pc it finds the
 * FDE that covers it, runs the CIE's and the FDE's rules up to the pc, and
 * so knows the canonical frame address (CFA: rsp before the call) and where
 * the return address and rbp were saved.  gcc's x86-64 kernel code needs
 * few of the DWARF opcodes; anything else (an expression, an unknown
 * opcode) ends the trace rather than guess.  Code without an FDE (the
 * assembly entry stubs, boot.asm) ends it too: it is where the kernel was
 * entered.  Every read is checked to lie on the kernel stack the trace
 * started on, so a corrupted stack cannot fault the panic path.
 */
#include "backtrace.h"
#include "log.h"

#define REG_RBP 6
#define REG_RSP 7
#define REG_RA  16          /* the return address column on x86-64 */
#define NREGS   17
#define MAX_FRAMES 32
#define MAX_STATES 4        /* DW_CFA_remember_state depth */

/* DW_EH_PE_* pointer encodings (the low nibble: format; 0x70: relative to) */
#define PE_ABSPTR 0x00
#define PE_UDATA4 0x03
#define PE_SDATA4 0x0b
#define PE_UDATA8 0x04
#define PE_SDATA8 0x0c
#define PE_PCREL  0x10
#define PE_OMIT   0xff

extern const u8 __eh_frame_start[], __eh_frame_end[];
extern const char __text_start[], __text_end[];

struct cfa_rules {
    unsigned cfa_reg;
    i64 cfa_off;
    bool saved[NREGS];      /* else: same value (callee-saved) or unknown */
    i64 off[NREGS];         /* saved at CFA + off */
};

struct cie {
    word code_align;
    i64 data_align;
    unsigned ra_reg;
    u8 fde_enc;
    const u8 *insns, *end;
};

static word uleb(const u8 **p, const u8 *end)
{
    word v = 0;
    unsigned shift = 0;
    while (*p < end) {
        u8 b = *(*p)++;
        if (shift < 64)
            v |= (word)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80))
            break;
    }
    return v;
}

static i64 sleb(const u8 **p, const u8 *end)
{
    word v = 0;
    unsigned shift = 0;
    u8 b = 0;
    while (*p < end) {
        b = *(*p)++;
        if (shift < 64)
            v |= (word)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80))
            break;
    }
    if (shift < 64 && (b & 0x40))
        v |= ~0ul << shift;
    return (i64)v;
}

static u32 rd32(const u8 *p) { return p[0] | p[1] << 8 | p[2] << 16 | (u32)p[3] << 24; }
static u64 rd64(const u8 *p) { return rd32(p) | (u64)rd32(p + 4) << 32; }

/* A pointer in encoding enc at *p; false for an encoding we do not read. */
static bool read_ptr(const u8 **p, const u8 *end, u8 enc, word *out)
{
    const u8 *at = *p;
    word v;
    switch (enc & 0x0f) {
    case PE_ABSPTR: case PE_UDATA8: case PE_SDATA8:
        if (end - at < 8) return false;
        v = rd64(at); *p += 8; break;
    case PE_UDATA4:
        if (end - at < 4) return false;
        v = rd32(at); *p += 4; break;
    case PE_SDATA4:
        if (end - at < 4) return false;
        v = (word)(i64)(__INT32_TYPE__)rd32(at); *p += 4; break;
    default:
        return false;
    }
    if ((enc & 0x70) == PE_PCREL)
        v += (word)at;
    else if ((enc & 0x70) != 0)
        return false;
    *out = v;
    return true;
}

static bool parse_cie(const u8 *c, struct cie *cie)
{
    u32 len = rd32(c);
    if (len == 0 || len == 0xffffffffu)
        return false;
    const u8 *end = c + 4 + len, *p = c + 8;
    u8 version = *p++;
    const char *aug = (const char *)p;
    while (p < end && *p)
        p++;
    p++;
    cie->code_align = uleb(&p, end);
    cie->data_align = sleb(&p, end);
    cie->ra_reg = version == 1 ? *p++ : (unsigned)uleb(&p, end);
    cie->fde_enc = PE_ABSPTR;
    if (aug[0] == 'z') {
        word alen = uleb(&p, end);
        const u8 *data = p;
        for (const char *a = aug + 1; *a; a++) {
            if (*a == 'R') {
                cie->fde_enc = *data++;
            } else if (*a == 'L') {
                data++;
            } else if (*a == 'P') {
                u8 enc = *data++;
                word ignored;
                if (!read_ptr(&data, end, enc, &ignored))
                    return false;
            } else if (*a != 'S') {
                return false;
            }
        }
        p += alen;
    } else if (aug[0]) {
        return false;                    /* an augmentation we cannot skip */
    }
    cie->insns = p;
    cie->end = end;
    return p <= end && cie->ra_reg == REG_RA;
}

/* Runs CFA instructions [p, end) until the location passes pc. */
static bool run_cfa(const u8 *p, const u8 *end, const struct cie *cie, word loc, word pc,
                    struct cfa_rules *r, const struct cfa_rules *initial)
{
    struct cfa_rules stack[MAX_STATES];
    unsigned depth = 0;
    while (p < end) {
        u8 op = *p++;
        word delta = ~0ul, reg;
        switch (op & 0xc0) {
        case 0x40: delta = op & 0x3f; break;                            /* advance_loc */
        case 0x80:                                                      /* offset */
            reg = op & 0x3f;
            if (reg < NREGS) {
                r->saved[reg] = true;
                r->off[reg] = (i64)uleb(&p, end) * cie->data_align;
            } else {
                uleb(&p, end);
            }
            continue;
        case 0xc0:                                                      /* restore */
            reg = op & 0x3f;
            if (reg < NREGS && initial) {
                r->saved[reg] = initial->saved[reg];
                r->off[reg] = initial->off[reg];
            }
            continue;
        }
        if (delta == ~0ul) switch (op) {
        case 0x00: break;                                               /* nop */
        case 0x02: delta = *p++; break;                                 /* advance_loc1 */
        case 0x03: delta = p[0] | p[1] << 8; p += 2; break;             /* advance_loc2 */
        case 0x04: delta = rd32(p); p += 4; break;                      /* advance_loc4 */
        case 0x05:                                                      /* offset_extended */
            reg = uleb(&p, end);
            if (reg < NREGS) {
                r->saved[reg] = true;
                r->off[reg] = (i64)uleb(&p, end) * cie->data_align;
            } else {
                uleb(&p, end);
            }
            break;
        case 0x06: case 0x08:                                           /* restore_extended, */
            reg = uleb(&p, end);                                        /* same_value */
            if (reg < NREGS)
                r->saved[reg] = false;
            break;
        case 0x07:                                                      /* undefined */
            reg = uleb(&p, end);
            if (reg == REG_RA)
                return false;                                           /* the outermost frame */
            if (reg < NREGS)
                r->saved[reg] = false;
            break;
        case 0x0a:                                                      /* remember_state */
            if (depth == MAX_STATES)
                return false;
            stack[depth++] = *r;
            break;
        case 0x0b:                                                      /* restore_state */
            if (depth == 0)
                return false;
            *r = stack[--depth];
            break;
        case 0x0c:                                                      /* def_cfa */
            r->cfa_reg = (unsigned)uleb(&p, end);
            r->cfa_off = (i64)uleb(&p, end);
            break;
        case 0x0d: r->cfa_reg = (unsigned)uleb(&p, end); break;         /* def_cfa_register */
        case 0x0e: r->cfa_off = (i64)uleb(&p, end); break;              /* def_cfa_offset */
        case 0x11:                                                      /* offset_extended_sf */
            reg = uleb(&p, end);
            if (reg < NREGS) {
                r->saved[reg] = true;
                r->off[reg] = sleb(&p, end) * cie->data_align;
            } else {
                sleb(&p, end);
            }
            break;
        case 0x12:                                                      /* def_cfa_sf */
            r->cfa_reg = (unsigned)uleb(&p, end);
            r->cfa_off = sleb(&p, end) * cie->data_align;
            break;
        case 0x13: r->cfa_off = sleb(&p, end) * cie->data_align; break; /* def_cfa_offset_sf */
        case 0x2e: uleb(&p, end); break;                                /* GNU_args_size */
        default:
            return false;           /* expressions, register rules: not in our code */
        }
        if (delta != ~0ul) {
            loc += delta * cie->code_align;
            if (loc > pc)
                return true;
        }
    }
    return true;
}

/* The rules in force at pc, from the FDE that covers it. */
static bool rules_at(word pc, struct cfa_rules *r)
{
    for (const u8 *e = __eh_frame_start; e + 8 <= __eh_frame_end;) {
        u32 len = rd32(e);
        if (len == 0 || len == 0xffffffffu)
            break;
        const u8 *end = e + 4 + len;
        if (end > __eh_frame_end)
            break;
        u32 cie_off = rd32(e + 4);
        if (cie_off != 0) {                                  /* an FDE, not a CIE */
            const u8 *c = e + 4 - cie_off;
            struct cie cie;
            const u8 *p = e + 8;
            word start, range;
            if (c >= __eh_frame_start && parse_cie(c, &cie) &&
                read_ptr(&p, end, cie.fde_enc, &start) &&
                read_ptr(&p, end, cie.fde_enc & 0x0f, &range) &&
                pc >= start && pc - start < range) {
                struct cfa_rules initial = { 0 };
                if (!run_cfa(cie.insns, cie.end, &cie, start, ~0ul, &initial, NULL))
                    return false;
                *r = initial;
                word alen = uleb(&p, end);                   /* "z": augmentation data */
                return run_cfa(p + alen, end, &cie, start, pc, r, &initial);
            }
        }
        e = end;
    }
    return false;
}

static bool in_text(word a) { return a >= (word)__text_start && a < (word)__text_end; }

static void print_frame(unsigned n, word pc)
{
    word off;
    const char *name = ksym_lookup(pc, &off);
    if (name)
        kprintf("  #%u %s+0x%lx (%lx)\n", n, name, off, pc);
    else
        kprintf("  #%u ? (%lx)\n", n, pc);
}

/* One frame up: the caller's pc, sp and bp; or why not. */
static const char *unwind_step(word *pc, word *sp, word *bp, bool first, word lo, word hi)
{
    struct cfa_rules r;
    /* a return address may sit just past the last instruction of its
     * function (a call to a noreturn function): look up the call */
    if (!rules_at(first ? *pc : *pc - 1, &r))
        return "no call-frame information here: assembly, where the kernel was entered";
    word cfa;
    if (r.cfa_reg == REG_RSP)
        cfa = *sp + (word)r.cfa_off;
    else if (r.cfa_reg == REG_RBP)
        cfa = *bp + (word)r.cfa_off;
    else
        return "the frame's address is in a register we do not track";
    word ra_at = cfa + (word)r.off[REG_RA];
    if (!r.saved[REG_RA] || ra_at < lo || ra_at + 8 > hi || cfa <= *sp)
        return "the return address is not on this stack";
    if (r.saved[REG_RBP]) {
        word bp_at = cfa + (word)r.off[REG_RBP];
        if (bp_at < lo || bp_at + 8 > hi)
            return "the saved rbp is not on this stack";
        *bp = *(const word *)bp_at;
    }
    *pc = *(const word *)ra_at;
    *sp = cfa;
    return NULL;
}

void backtrace_print(const struct unwind_start *s)
{
    word lo, hi, pc = s->pc, sp = s->sp, bp = s->bp;
    const char *end = NULL;
    kprintf("backtrace (docs/debugging.md):\n");
    if (!arch_stack_bounds(sp, &lo, &hi))
        end = "rsp is on no kernel stack";
    for (unsigned n = 0; n < MAX_FRAMES; n++) {
        print_frame(n, pc);
        if (end)
            break;
        if (!in_text(pc)) {
            end = "not kernel code";
            break;
        }
        if ((end = unwind_step(&pc, &sp, &bp, n == 0, lo, hi)))
            break;
    }
    kprintf("  (end: %s)\n", end ? end : "too many frames");
}

noinline void backtrace_here(void)
{
    struct unwind_start s;
    __asm__ volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2"
                     : "=r"(s.pc), "=r"(s.sp), "=r"(s.bp));
    backtrace_print(&s);
}
