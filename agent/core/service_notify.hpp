// Tells systemd (Type=notify) how the agent is doing: READY=1 once the pipeline runs,
// RELOADING=1 around a reload, STOPPING=1 on shutdown. Does nothing outside systemd.
#pragma once

#include <string_view>

namespace sluice::core {

void notify_ready();
void notify_reloading();
void notify_stopping();
// A one-line status shown by `systemctl status`.
void notify_status(std::string_view status);

}  // namespace sluice::core
