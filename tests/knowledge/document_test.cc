// Reading documents and cutting them into chunks.
#include "weft/knowledge/document.h"

#include <gtest/gtest.h>

#include "test_pdf.h"

namespace weft::knowledge {
namespace {

TEST(Chunking, SectionsFollowHeadingsAndCarryTheirPath) {
  const std::string text =
      "# Billing\n\nIntro to billing.\n\n## Invoices\n\nDownload them from Settings.\nSecond line of the same "
      "paragraph.\n\n- first item\n- second item\n\n### Old invoices\n\nKept ten years.\n\n## Refunds\n\nWithin 30 "
      "days.\n";
  std::vector<Chunk> chunks = ChunkText(text);
  ASSERT_EQ(chunks.size(), 4u);
  EXPECT_EQ(chunks[0].heading, "Billing");
  EXPECT_EQ(chunks[0].text, "Intro to billing.");
  EXPECT_EQ(chunks[1].heading, "Billing > Invoices");
  // Soft line breaks join; list items keep theirs.
  EXPECT_EQ(chunks[1].text,
            "Download them from Settings. Second line of the same paragraph.\n\n- first item\n- second item");
  EXPECT_EQ(chunks[2].heading, "Billing > Invoices > Old invoices");
  EXPECT_EQ(chunks[3].heading, "Billing > Refunds");
  for (size_t i = 0; i < chunks.size(); ++i) EXPECT_EQ(chunks[i].ordinal, static_cast<int>(i));
}

TEST(Chunking, SetextHeadingsAndFencesAreStructure) {
  std::vector<Chunk> chunks =
      ChunkText("Title\n=====\n\nText.\n\n```\n# not a heading\n\ncode\n```\n\nSub\n---\n\nMore.");
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[0].heading, "Title");
  EXPECT_NE(chunks[0].text.find("# not a heading\n\ncode"), std::string::npos) << chunks[0].text;
  EXPECT_EQ(chunks[1].heading, "Title > Sub");
}

TEST(Chunking, LongSectionsAreCutBetweenSentencesWithOverlap) {
  std::string text = "# Long\n\n";
  for (int i = 0; i < 60; ++i) text += "Sentence number " + std::to_string(i) + " says something useful. ";
  ChunkOptions options;
  options.max_chars = 300;
  options.overlap_chars = 80;
  std::vector<Chunk> chunks = ChunkText(text, options);
  ASSERT_GT(chunks.size(), 5u);
  for (size_t i = 0; i < chunks.size(); ++i) {
    EXPECT_LE(chunks[i].text.size(), 300u);
    EXPECT_EQ(chunks[i].text.back(), '.') << "cut inside a sentence: " << chunks[i].text;
    if (i > 0) {
      // The next chunk starts with the previous one's last sentence.
      const std::string& prev = chunks[i - 1].text;
      const std::string last = prev.substr(prev.rfind("Sentence"));
      EXPECT_EQ(chunks[i].text.rfind(last, 0), 0u) << chunks[i].text;
    }
  }
  // Every sentence is somewhere.
  std::string all;
  for (const Chunk& c : chunks) all += c.text + " ";
  for (int i = 0; i < 60; ++i) EXPECT_NE(all.find("number " + std::to_string(i) + " says"), std::string::npos) << i;
}

TEST(Chunking, TextWithoutSpacesIsCutOnCodePoints) {
  std::string text;
  for (int i = 0; i < 500; ++i) text += "é";  // 2 bytes each, no space anywhere
  ChunkOptions options;
  options.max_chars = 101;
  options.overlap_chars = 0;
  std::vector<Chunk> chunks = ChunkText(text, options);
  size_t total = 0;
  for (const Chunk& c : chunks) {
    EXPECT_LE(c.text.size(), 101u);
    EXPECT_EQ(c.text.size() % 2, 0u) << "a code point was split";
    total += c.text.size();
  }
  EXPECT_EQ(total, text.size());
}

TEST(Chunking, BoundedAndEmpty) {
  EXPECT_TRUE(ChunkText("").empty());
  EXPECT_TRUE(ChunkText("# Only a heading\n\n## And another\n").empty());
  std::string many;
  for (int i = 0; i < 100; ++i) many += "# H" + std::to_string(i) + "\n\ntext\n\n";
  ChunkOptions options;
  options.max_chunks = 7;
  EXPECT_EQ(ChunkText(many, options).size(), 7u);
}

TEST(Html, HeadingsParagraphsListsAndEntitiesWithoutScripts) {
  std::string title;
  const std::string text = HtmlToText(
      "<html><head><title>Data &amp; you</title><style>p{}</style><script>var x = '<p>no</p>';</script></head>"
      "<body><nav>menu</nav><h1>Where <em>data</em> lives</h1><p>In the EU&nbsp;&rarr; Frankfurt.</p>"
      "<!-- a comment --><ul><li>ISO 27001</li><li>SOC&#32;2 &#x2713;</li></ul><p>a < b &bogus; c</p></body></html>",
      &title);
  EXPECT_EQ(title, "Data & you");
  EXPECT_EQ(text,
            "# Where data lives\n\nIn the EU \u2192 Frankfurt.\n\n- ISO 27001\n- SOC 2 \u2713\n\na < b &bogus; c");
}

TEST(Documents, MarkdownFrontMatterFillsTheMetadata) {
  Result<Document> d = ReadDocument("billing/invoices.md",
                                    "---\ntitle: \"Invoices\"\nurl: https://help.example.com/invoices\nlanguage: EN\n"
                                    "tags:\n  - billing\n  - pdf\n---\n# Something else\n\nBody.\n");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->title, "Invoices");
  EXPECT_EQ(d->source, "https://help.example.com/invoices");
  EXPECT_EQ(d->language, "en");
  EXPECT_EQ(d->tags, (std::vector<std::string>{"billing", "pdf"}));
  EXPECT_EQ(d->text, "# Something else\n\nBody.\n");
  // Without front matter: the first heading, then the file name.
  EXPECT_EQ(ReadDocument("a.md", "# First\n\ntext")->title, "First");
  EXPECT_EQ(ReadDocument("notes/reset-your_password.txt", "text")->title, "reset your password");
  EXPECT_EQ(ReadDocument("p.html", "<title>T</title><p>x</p>")->title, "T");
  // A key with no value (an empty list) is as if it were not there (found
  // by fuzzing: it read the first of no values).
  Result<Document> empty = ReadDocument("e.md", "---\ntitle:\nsource:\n---\n# Heading\n");
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->title, "Heading");
  EXPECT_EQ(empty->source, "e.md");
}

TEST(Documents, PdfTextIsRead) {
  Result<Document> d = ReadDocument("guide.pdf", testing::MakePdf({"Refund guide", "Refunds take ten days"}));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->title, "Refund guide");
  EXPECT_NE(d->text.find("Refunds take ten days"), std::string::npos) << d->text;
}

TEST(Documents, WhatHoldsNoTextIsRefusedByName) {
  Result<Document> png = ReadDocument("logo.md", std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16));
  EXPECT_EQ(png.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(png.status().message().find("logo.md"), std::string::npos) << png.status();
  EXPECT_EQ(ReadDocument("x.txt", "caf\xe9").status().code(), StatusCode::kInvalidArgument);
  DocumentLimits small;
  small.max_bytes = 10;
  EXPECT_EQ(ReadDocument("big.txt", std::string(11, 'a'), small).status().code(), StatusCode::kInvalidArgument);
  DocumentLimits cut;
  cut.max_chars = 5;
  EXPECT_EQ(ReadDocument("a.txt", "ééééé", cut)->text, "éé");
}

TEST(Language, GuessedFromCommonWords) {
  EXPECT_EQ(GuessLanguage("Pour télécharger vos factures, ouvrez les paramètres et cliquez sur le bouton."), "fr");
  EXPECT_EQ(GuessLanguage("To download your invoices, open the settings and click the button."), "en");
  EXPECT_EQ(GuessLanguage("Um die Rechnung herunterzuladen, öffnen Sie die Einstellungen und klicken Sie auf den "
                          "Knopf, der nicht grau ist."),
            "de");
  EXPECT_EQ(GuessLanguage("ISO 27001"), "");
}

}  // namespace
}  // namespace weft::knowledge
