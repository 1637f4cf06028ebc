/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The names of the sandbox's options (SPEC §3: --mode, --backend, --egress). */
#include "omnibase/omnibase.h"

#include "basic/string-table.h"

static const char *const mode_table[OB_MODE_MAX] = {
    [OB_MODE_SANDBOX] = "sandbox",
    [OB_MODE_RX] = "rx",
    [OB_MODE_RWX] = "rwx",
};
DEFINE_STRING_TABLE(ob_sandbox_mode, ob_sandbox_mode, mode_table, OB_MODE_MAX)

static const char *const backend_table[OB_BACKEND_MAX] = {
    [OB_BACKEND_NATIVE] = "native",
    [OB_BACKEND_GVISOR] = "gvisor",
    [OB_BACKEND_CRUN] = "crun",
    [OB_BACKEND_RUNC] = "runc",
};
DEFINE_STRING_TABLE(ob_backend, ob_backend, backend_table, OB_BACKEND_MAX)

static const char *const egress_table[OB_EGRESS_MAX] = {
    [OB_EGRESS_BOTH] = "both",
    [OB_EGRESS_PROXY] = "proxy",
    [OB_EGRESS_TRANSPARENT] = "transparent",
};
DEFINE_STRING_TABLE(ob_egress, ob_egress, egress_table, OB_EGRESS_MAX)
