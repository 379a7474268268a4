// The browser code served by weft (the chat widget), bundled by esbuild
// from web/ at build time and embedded in the binary
// (cmake/embed_assets.cmake): no file to deploy beside it, no CDN.
#pragma once

#include <string_view>

namespace weft::server {

struct WebAsset {
  std::string_view path;  // "/widget.js"
  std::string_view content_type;
  std::string_view body;
  std::string_view etag;  // quoted, strong
};

// The asset served at `path`, or nullptr.
const WebAsset* FindWebAsset(std::string_view path);

}  // namespace weft::server
