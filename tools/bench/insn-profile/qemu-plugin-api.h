/*
 * The part of QEMU's TCG plugin interface that plugin.c uses, declared here
 * because Debian 12 ships qemu-system-x86 7.2 without its qemu-plugin.h.
 * Written from QEMU 7.2's documented C API (docs/devel/tcg-plugins.rst,
 * include/qemu/qemu-plugin.h, API version 1); the layouts and enum values
 * below must stay those of 7.2, since QEMU and the plugin share them
 * directly.  The functions are QEMU's own exports, resolved when QEMU
 * dlopen()s the plugin.
 */
#ifndef INSN_PROFILE_QEMU_PLUGIN_API_H
#define INSN_PROFILE_QEMU_PLUGIN_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* QEMU looks these symbols up by name, so they must stay visible even when
 * the rest of the plugin is built with -fvisibility=hidden. */
#define QEMU_PLUGIN_EXPORT __attribute__((visibility("default")))

/* The API level the plugin is written for; QEMU refuses a plugin whose
 * exported qemu_plugin_version lies outside the range it supports. */
#define QEMU_PLUGIN_VERSION 1

typedef uint64_t qemu_plugin_id_t;

/* What QEMU tells the plugin at install time (valid during the call only). */
typedef struct qemu_info_t {
    const char *target_name;    /* "x86_64" */
    struct {
        int min;                /* oldest API level QEMU still accepts */
        int cur;                /* the level QEMU implements */
    } version;
    bool system_emulation;      /* false under linux-user */
    union {
        struct {
            int smp_vcpus;      /* vCPUs at start */
            int max_vcpus;
        } system;
    };
} qemu_info_t;

/* Opaque handles, valid only inside the translation callback. */
struct qemu_plugin_tb;
struct qemu_plugin_insn;

/* Whether an execution callback looks at guest registers (none of ours does). */
enum qemu_plugin_cb_flags {
    QEMU_PLUGIN_CB_NO_REGS,
    QEMU_PLUGIN_CB_R_REGS,
    QEMU_PLUGIN_CB_RW_REGS,
};

/* The one inline operation 7.2 has: *ptr += imm, emitted into the code. */
enum qemu_plugin_op {
    QEMU_PLUGIN_INLINE_ADD_U64,
};

typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id,
                                               struct qemu_plugin_tb *tb);

/* Ours: called once when QEMU loads the plugin; non-zero refuses it. */
QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                           int argc, char **argv);

/* QEMU's. */
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
                                           qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
                                            qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags,
                                            void *userdata);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn,
                                                enum qemu_plugin_op op,
                                                void *ptr, uint64_t imm);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb,
                                    void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb,
                                                 size_t idx);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);

#endif
