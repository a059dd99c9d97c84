/*
 * The static RAM an application holds for cellota, for `make size`. The agent's own context
 * when the agent module defines one (it holds the others); until then, what an install needs:
 * the install control and the image pipeline. Every public function of the agent-side modules
 * is kept by the link as well (size.sh passes them as roots), so flash counts all of them.
 */
#ifdef SIZE_HAVE_AGENT
#include "agent/agent.h"
static cellota_agent agent;
void *const size_agent_contexts[] = {&agent};
#else
#include "boot/control.h"
#include "image/pipeline.h"
static cellota_boot_control control;
static cellota_pipeline pipeline;
void *const size_agent_contexts[] = {&control, &pipeline};
#endif
