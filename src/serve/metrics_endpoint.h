// Serves a prometheus-cpp registry in the text exposition format on an HttpServer route.
#pragma once

#include <memory>

#include "serve/http_server.h"

namespace prometheus {
class Registry;
}

namespace intentstream::serve {

HttpHandlerFn MetricsHandler(std::shared_ptr<prometheus::Registry> registry);

}  // namespace intentstream::serve
