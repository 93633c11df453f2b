// How the text of an offer message is read, defined once: the catalogue's template
// checks, the message renderer, the rephrase guard and the evaluation's audit of a
// decisions log all split, classify and compare sentences with these functions.
//
// A message is plain text whose factual sentences carry citation markers "[n]" (n from
// 1) placed before the sentence's closing punctuation: "... 24.9% APR variable [1]."
// Marker n refers to RankedOffer.citations[n - 1].
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace intentstream::catalog {

// The sentences of a text, trimmed: a sentence ends at '.', '!' or '?' followed by white
// space or the end of the text ("4.9%" does not end one). Empty pieces are dropped.
std::vector<std::string_view> Sentences(std::string_view text);

// The citation markers "[n]" of a text, in order of appearance (n in 1..999).
std::vector<int> CitationMarkers(std::string_view text);

// The text with its citation markers (and the space before each) removed.
std::string WithoutMarkers(std::string_view text);

// The numbers of a text, normalised: "£1,000" -> "1000", "24.9%" -> "24.9",
// "0.45%" -> "0.45". Citation markers are not numbers.
std::vector<std::string> Numbers(std::string_view text);

// Whether a sentence states a fact that needs a citation: it has a digit, a currency
// sign or '%', or a word of rates, fees, limits and conditions (rate, APR, fee, charge,
// limit, eligible, must, subject, cover, excess, free, ...). Deliberately broad: a
// sentence of template text that this calls factual fails the catalogue's load, and a
// rephrase with such a sentence and no marker is rejected.
bool StatesFact(std::string_view sentence);

// ASCII lower case.
std::string Lower(std::string_view text);

// Whether `haystack` contains `phrase`, ignoring ASCII case, as whole words ("risk-free"
// is found in "a risk-free rate", not in "nonrisk-freeze").
bool ContainsPhrase(std::string_view haystack, std::string_view phrase);

}  // namespace intentstream::catalog
