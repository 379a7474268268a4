// Cues the local classifier adds to a text's words: what a message says
// about time pressure, outages, lost data, money taken, security, business
// impact, or calm (a question, a suggestion, thanks), from small lexicons in
// English, French, Spanish, German, Portuguese and Italian; the words a
// negation governs ("not working", "no rush"); and the message's shape
// (a question, exclamation, shouting). The same cue from any language is
// the same feature, so what the classifier learns from an English "urgent"
// carries to a German "dringend" — urgency depends on such cues more than
// on the topic's words.
#pragma once

#include <string>
#include <vector>

namespace weft::ai::internal {

// Lowercased words, with accented Latin letters folded to ASCII
// ("Débité" -> "debite", "Straße" -> "strasse").
std::vector<std::string> FoldedWords(std::string_view text);

// The cue tokens of a text ("cue:outage", "neg:working", "shape:question",
// ...), given its folded words and the raw text (for punctuation and case).
std::vector<std::string> CueTokens(const std::vector<std::string>& folded_words, std::string_view text);

}  // namespace weft::ai::internal
