/*===- FakeLibrary.c - a stand-in for a compiled library ------------------===*
 *
 * A library with the module table bq-compile writes and no entry point, whose
 * required_features the test sets before loading it, and which counts the
 * calls of its set_runtime_hooks: the first of a library's code the runtime
 * runs after the table, so a refused library must never see one.
 *
 *===----------------------------------------------------------------------===*/

#include "binq/abi.h"

#include <stddef.h>

/* Set by the test (through dlsym) before bq_library_open. */
const char *fake_required_features = "";
int fake_hook_installs = 0;

static void setRuntimeHooks(const bq_runtime_hooks *hooks) {
  (void)hooks;
  ++fake_hook_installs;
}

static bq_module_info info = {.abi_version = BQ_ABI_VERSION,
                              .binq_version = "test",
                              .target_cpu = "fakecpu",
                              .manifest = "{}",
                              .set_runtime_hooks = setRuntimeHooks};

/* Exported as BQ_MODULE_INFO_SYMBOL, which in C is the table's type name. */
const bq_module_info *moduleInfo(void) __asm__("bq_module_info");
const bq_module_info *moduleInfo(void) {
  info.required_features = fake_required_features;
  return &info;
}
