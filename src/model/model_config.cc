#include "model/model_config.h"

#include "common/config.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace intentstream::model {

namespace {

class Keys {
 public:
  Keys(std::string path, std::map<std::string, std::string> kv)
      : path_(std::move(path)), kv_(std::move(kv)) {}
  const std::string& Str(const std::string& key) const {
    const auto it = kv_.find(key);
    if (it == kv_.end()) throw ModelError(path_ + ": missing key '" + key + "'");
    return it->second;
  }
  int64_t Int(const std::string& key) const {
    const std::string& v = Str(key);
    try {
      size_t used = 0;
      const int64_t x = std::stoll(v, &used);
      if (used != v.size()) throw std::invalid_argument(v);
      return x;
    } catch (const std::exception&) {
      throw ModelError(path_ + ": key '" + key + "' is not an integer: '" + v + "'");
    }
  }
  uint64_t Hex(const std::string& key) const {
    const std::string& v = Str(key);
    try {
      return std::stoull(v, nullptr, 16);
    } catch (const std::exception&) {
      throw ModelError(path_ + ": key '" + key + "' is not hexadecimal: '" + v + "'");
    }
  }

 private:
  std::string path_;
  std::map<std::string, std::string> kv_;
};

std::string HexString(uint64_t x) {
  std::ostringstream os;
  os << std::hex << x;
  return os.str();
}

void CheckVocab(const Keys& keys, const std::string& dir, const std::string& name,
                const Vocabulary& vocab) {
  const auto expected = keys.Int(name + "_vocab_size");
  if (expected != static_cast<int64_t>(vocab.size())) {
    throw ModelError(dir + "/" + name + ".vocab has " + std::to_string(vocab.size()) +
                     " entries but " + dir + "/config.txt key '" + name + "_vocab_size' says " +
                     std::to_string(expected));
  }
  if (keys.Hex(name + "_vocab_digest") != vocab.Digest()) {
    throw ModelError(dir + "/" + name + ".vocab does not match " + dir + "/config.txt key '" +
                     name + "_vocab_digest' (the vocabulary file belongs to another model)");
  }
}

}  // namespace

void EncoderConfig::Validate(const std::string& where) const {
  auto bad = [&](const std::string& key, const std::string& why) {
    throw ModelError(where + ": key '" + key + "' " + why);
  };
  if (d_model < 4 || d_model > 1024) bad("d_model", "must be in [4, 1024]");
  if (layers < 1 || layers > 16) bad("layers", "must be in [1, 16]");
  if (heads < 1 || d_model % heads != 0) bad("heads", "must divide d_model");
  if (heads > 64) bad("heads", "must be at most 64");
  if (ffn < 1 || ffn > 8192) bad("ffn", "must be in [1, 8192]");
  if (window < 2 || window > 4096) bad("window", "must be in [2, 4096]");
  if (window_stride < 1 || window_stride > window / 2)
    bad("window_stride", "must be in [1, window/2]");
}

std::map<std::string, std::string> ReadKeyValueFile(const std::string& path) {
  std::map<std::string, std::string> kv;
  std::string error;
  if (!ReadKeyValueLines(path, &kv, &error)) throw ModelError(error);
  return kv;
}

LoadedArtifact LoadArtifactText(const std::string& dir) {
  const std::string config_path = dir + "/config.txt";
  if (!std::filesystem::is_directory(dir)) throw ModelError(dir + ": model directory not found");
  const Keys keys(config_path, ReadKeyValueFile(config_path));
  if (keys.Int("format") != kArtifactFormat) {
    throw ModelError(config_path + ": key 'format' is " + keys.Str("format") +
                     ", this build reads format " + std::to_string(kArtifactFormat) +
                     " (retrain the model with this build's intentstream-train)");
  }
  ModelConfig c;
  c.model_version = keys.Str("model_version");
  c.seed = static_cast<uint64_t>(keys.Int("seed"));
  c.encoder.d_model = static_cast<int>(keys.Int("d_model"));
  c.encoder.layers = static_cast<int>(keys.Int("layers"));
  c.encoder.heads = static_cast<int>(keys.Int("heads"));
  c.encoder.ffn = static_cast<int>(keys.Int("ffn"));
  c.encoder.window = static_cast<int>(keys.Int("window"));
  c.encoder.window_stride = static_cast<int>(keys.Int("window_stride"));
  const std::string& head = keys.Str("next_category_head");
  if (head != "tied" && head != "linear") {
    throw ModelError(config_path + ": key 'next_category_head' must be 'tied' or 'linear', not '" +
                     head + "'");
  }
  c.encoder.tied_category_head = head == "tied";
  c.encoder.Validate(config_path);
  c.tokenizer.category_depth = static_cast<int>(keys.Int("category_depth"));
  c.tokenizer.category_hash_buckets = static_cast<int>(keys.Int("category_hash_buckets"));
  c.tokenizer.query_buckets = static_cast<int>(keys.Int("query_buckets"));
  if (c.tokenizer.query_buckets < 1) {
    throw ModelError(config_path + ": key 'query_buckets' must be positive");
  }
  if (c.tokenizer.category_hash_buckets < 0) {
    throw ModelError(config_path + ": key 'category_hash_buckets' must not be negative");
  }
  c.tokenizer.path_rules = LoadPathRules(dir + "/path_rules.txt");
  if (keys.Int("path_rules") != static_cast<int64_t>(c.tokenizer.path_rules.size())) {
    throw ModelError(dir + "/path_rules.txt has " + std::to_string(c.tokenizer.path_rules.size()) +
                     " rules but " + config_path + " key 'path_rules' says " +
                     keys.Str("path_rules"));
  }
  Vocabulary cats = Vocabulary::Load(dir + "/category.vocab");
  Vocabulary prods = Vocabulary::Load(dir + "/product.vocab");
  Vocabulary chans = Vocabulary::Load(dir + "/channel.vocab");
  CheckVocab(keys, dir, "category", cats);
  CheckVocab(keys, dir, "product", prods);
  CheckVocab(keys, dir, "channel", chans);
  Tokenizer tok(c.tokenizer, std::move(cats), std::move(prods), std::move(chans));
  return LoadedArtifact{std::move(c), std::move(tok)};
}

void SaveArtifactText(const std::string& dir, const ModelConfig& c, const Tokenizer& tok) {
  std::filesystem::create_directories(dir);
  const std::string config_path = dir + "/config.txt";
  std::ofstream out(config_path);
  out << "# intentstream session encoder artifact (docs/model.md)\n"
      << "format = " << kArtifactFormat << "\n"
      << "model_version = " << c.model_version << "\n"
      << "seed = " << c.seed << "\n"
      << "d_model = " << c.encoder.d_model << "\n"
      << "layers = " << c.encoder.layers << "\n"
      << "heads = " << c.encoder.heads << "\n"
      << "ffn = " << c.encoder.ffn << "\n"
      << "window = " << c.encoder.window << "\n"
      << "window_stride = " << c.encoder.window_stride << "\n"
      << "next_category_head = " << (c.encoder.tied_category_head ? "tied" : "linear") << "\n"
      << "category_depth = " << c.tokenizer.category_depth << "\n"
      << "category_hash_buckets = " << c.tokenizer.category_hash_buckets << "\n"
      << "query_buckets = " << c.tokenizer.query_buckets << "\n"
      << "path_rules = " << c.tokenizer.path_rules.size() << "\n";
  const std::pair<const char*, const Vocabulary*> vocabs[] = {
      {"category", &tok.categories()}, {"product", &tok.products()}, {"channel", &tok.channels()}};
  for (const auto& [name, v] : vocabs) {
    out << name << "_vocab_size = " << v->size() << "\n"
        << name << "_vocab_digest = " << HexString(v->Digest()) << "\n";
    v->Save(dir + "/" + name + ".vocab");
  }
  if (!out) throw ModelError(config_path + ": cannot write");
  SavePathRules(c.tokenizer.path_rules, dir + "/path_rules.txt");
}

}  // namespace intentstream::model
