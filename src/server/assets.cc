// The browser code embedded in the binary (web/, bundled by esbuild at
// build time): the console at `/` and the chat widget at /widget.js.
#include "server_impl.h"
#include "web_assets.h"

namespace weft::server {
namespace {

// GET /widget.js, /console.js, /console.css: cacheable, revalidated by ETag.
asio::awaitable<Response> AssetRoute(Server::Impl&, Request& req) {
  const WebAsset* asset = FindWebAsset(req.path);
  if (asset == nullptr) co_return Response::Error(404, "NOT_FOUND", "no asset " + req.path);
  Response r;
  r.headers.emplace_back("ETag", std::string(asset->etag));
  r.headers.emplace_back("Cache-Control", "public, max-age=300");
  r.headers.emplace_back("Access-Control-Allow-Origin", "*");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.content_type = std::string(asset->content_type) + "; charset=utf-8";
  if (req.header("If-None-Match") == asset->etag) {
    r.status = 304;
    co_return r;
  }
  r.body = std::string(asset->body);
  co_return r;
}

// GET /: the console's page. Its script and style carry their ETag in the
// address, so a new build is never mixed with a cached old one.
asio::awaitable<Response> ConsoleRoute(Server::Impl&, Request&) {
  auto versioned = [](std::string_view path) {
    const WebAsset* a = FindWebAsset(path);
    std::string tag = a == nullptr ? "" : std::string(a->etag.substr(1, a->etag.size() - 2));
    return std::string(path) + "?v=" + tag;
  };
  std::string page =
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>weft</title><link rel=\"stylesheet\" href=\"" +
      versioned("/console.css") + "\"></head><body><div id=\"app\"></div><script src=\"" + versioned("/console.js") +
      "\"></script></body></html>";
  Response r = Response::Text(200, std::move(page), "text/html; charset=utf-8");
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Referrer-Policy", "same-origin");
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                         "connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
  co_return r;
}

}  // namespace

void AddAssetRoutes(std::vector<Route>& r) {
  using V = beast::http::verb;
  r.push_back({V::get, "/", Need::kPublic, &ConsoleRoute, "The web console (it signs in with /api/v1/session)"});
  r.push_back({V::get, "/console.js", Need::kPublic, &AssetRoute, "The console's script"});
  r.push_back({V::get, "/console.css", Need::kPublic, &AssetRoute, "The console's style"});
  r.push_back(
      {V::get, "/widget.js", Need::kPublic, &AssetRoute, "The chat widget: <script src=/widget.js data-channel=NAME>"});
}

}  // namespace weft::server
