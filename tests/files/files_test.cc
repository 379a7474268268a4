// Uploads kept by content, typed by content, and read as text (PDF through
// poppler in a separate limited process).
#include "weft/files/files.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <locale>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/test_pdf.h"

namespace weft::files {
namespace {

namespace fs = std::filesystem;

const std::string kPng = std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0", 29);

TEST(Files, TypesComeFromTheContentNotTheName) {
  EXPECT_EQ(SniffMediaType(testing::MakePdf({"Invoice 42"})), "application/pdf");
  EXPECT_EQ(SniffMediaType("plain words, nothing else\n"), "text/plain");
  EXPECT_EQ(SniffMediaType(kPng), "image/png");
  EXPECT_EQ(SniffMediaType(std::string("\x00\x01\x02\x03\xff\xfe", 6)), "application/octet-stream");
  EXPECT_TRUE(TypeAllowed("image/png", {}));
  EXPECT_TRUE(TypeAllowed("image/png", {"application/pdf", "image/*"}));
  EXPECT_FALSE(TypeAllowed("application/x-executable", {"application/pdf", "image/*"}));
  EXPECT_FALSE(TypeAllowed("imagery/png", {"image/*"}));
}

TEST(Files, UploadsAreKeptOnceByContent) {
  const fs::path dir = fs::temp_directory_path() / ("weft_files_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  UploadStore store(dir.string());
  Result<Value> a = store.Put("a.txt", "hello");
  Result<Value> b = store.Put("b.txt", "hello");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->get("id").as_string(), b->get("id").as_string());
  EXPECT_EQ(a->get("id").as_string(), "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  EXPECT_EQ(a->get("type").as_string(), "text/plain");
  EXPECT_EQ(a->get("size").as_number(), 5);
  EXPECT_EQ(b->get("name").as_string(), "b.txt");
  EXPECT_EQ(*store.Get(a->get("id").as_string()), "hello");
  EXPECT_EQ(store.Get(std::string(64, 'a')).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store.Get("../../etc/passwd").status().code(), StatusCode::kInvalidArgument);
  fs::remove_all(dir);
}

TEST(Files, TextOfPlainFilesAndPdfs) {
  Result<ExtractedText> plain = ExtractText("Bonjour, où est ma facture ?\n");
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->text, "Bonjour, où est ma facture ?\n");
  Result<ExtractedText> pdf = ExtractText(testing::MakePdf({"Invoice 42 total 130 EUR", "Page two says thanks"}));
  ASSERT_TRUE(pdf.ok()) << pdf.status();
  EXPECT_EQ(pdf->type, "application/pdf");
  EXPECT_EQ(pdf->pages, 2);
  EXPECT_NE(pdf->text.find("Invoice 42 total 130 EUR"), std::string::npos) << pdf->text;
  EXPECT_NE(pdf->text.find("Page two says thanks"), std::string::npos) << pdf->text;
  // Limits: characters and pages.
  Result<ExtractedText> cut = ExtractText(std::string(1000, 'x'), TextLimits{.max_chars = 10});
  ASSERT_TRUE(cut.ok());
  EXPECT_EQ(cut->text.size(), 10u);
  EXPECT_TRUE(cut->truncated);
  Result<ExtractedText> first = ExtractText(testing::MakePdf({"one", "two", "three"}), TextLimits{.max_pages = 1});
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->text.find("two"), std::string::npos);
  EXPECT_TRUE(first->truncated);
}

TEST(Files, UnreadableFilesSayWhy) {
  Result<ExtractedText> png = ExtractText(kPng);
  EXPECT_EQ(png.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(png.status().message().find("image/png"), std::string::npos) << png.status();
  // A PDF header with garbage after it: the reader (another process) fails, this one goes on.
  Result<ExtractedText> broken = ExtractText("%PDF-1.7\n" + std::string(5000, '\x07') + "\n%%EOF");
  EXPECT_EQ(broken.status().code(), StatusCode::kInvalidArgument) << broken.status();
  Result<ExtractedText> latin1 = ExtractText(std::string("caf\xe9 cr\xe8me\n"));
  EXPECT_FALSE(latin1.ok());
}

// PDFs are read by a program of their own, started while this process's other
// threads keep working: a forked copy of a busy process could inherit a lock
// one of them held (locale, stdio, the loader) and never finish.
TEST(Files, PdfsAreReadWhileOtherThreadsWork) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> busy;
  for (int t = 0; t < 3; ++t) {
    busy.emplace_back([&stop] {
      while (!stop.load()) {
        std::ostringstream out;
        out.imbue(std::locale::classic());
        out << 1.5 << "x";
        try {
          throw std::runtime_error(out.str());
        } catch (const std::runtime_error&) {
        }
        std::vector<char> scratch(4096 + out.str().size(), 'y');
        (void)scratch;
      }
    });
  }
  std::vector<std::thread> readers;
  std::atomic<int> read{0};
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&read, t] {
      for (int i = 0; i < 10; ++i) {
        const std::string words = "reader " + std::to_string(t) + " pdf " + std::to_string(i);
        Result<ExtractedText> pdf = ExtractText(testing::MakePdf({words}));
        if (pdf.ok() && pdf->text.find(words) != std::string::npos) read.fetch_add(1);
      }
    });
  }
  for (std::thread& r : readers) r.join();
  stop = true;
  for (std::thread& b : busy) b.join();
  EXPECT_EQ(read.load(), 40);
}

TEST(Files, AMissingReaderIsNamed) {
  ::setenv("WEFT_PDF_TEXT", "/nonexistent/weft-pdf-text", 1);
  Result<ExtractedText> pdf = ExtractText(testing::MakePdf({"Invoice 42"}));
  ::unsetenv("WEFT_PDF_TEXT");
  EXPECT_EQ(pdf.status().code(), StatusCode::kUnavailable) << pdf.status();
  EXPECT_NE(pdf.status().message().find("/nonexistent/weft-pdf-text"), std::string::npos) << pdf.status();
}

}  // namespace
}  // namespace weft::files
