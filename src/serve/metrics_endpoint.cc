#include "serve/metrics_endpoint.h"

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace intentstream::serve {

HttpHandlerFn MetricsHandler(std::shared_ptr<prometheus::Registry> registry) {
  return [registry](const HttpRequest&) {
    const prometheus::TextSerializer serializer;
    return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8",
                        serializer.Serialize(registry->Collect())};
  };
}

}  // namespace intentstream::serve
