#include "model/offer_network.h"

#include <algorithm>

namespace intentstream::model {

OfferNetImpl::OfferNetImpl(int semantic_dim, int structured_dim, int tasks_, int atom_rows,
                           const OfferNetConfig& c)
    : tasks(tasks_), offer_dim(c.offer_dim), branches(c.branches) {
  semantic = register_module("semantic", torch::nn::Linear(semantic_dim, c.hidden));
  structured = register_module("structured", torch::nn::Linear(structured_dim, c.hidden));
  gate = register_module("gate", torch::nn::Linear(2 * c.hidden, c.hidden));
  dropout = register_module("dropout", torch::nn::Dropout(0.0));
  for (int m = 0; m < c.branches; ++m) {
    const std::string i = std::to_string(m);
    fc1.push_back(register_module("fc1_" + i, torch::nn::Linear(c.hidden, c.branch_hidden)));
    fc2.push_back(register_module("fc2_" + i, torch::nn::Linear(c.branch_hidden, c.hidden)));
    out.push_back(
        register_module("out_" + i, torch::nn::Linear(c.hidden, tasks * (c.offer_dim + 1))));
  }
  mix_logits = register_parameter("mix_logits", torch::zeros({c.branches}));
  atoms = register_parameter("atoms", torch::randn({atom_rows, c.offer_dim + tasks}) * 0.1);
}

BranchesOut OfferNetImpl::Visitor(const torch::Tensor& sem, const torch::Tensor& str,
                                  bool keep_branches) {
  return FromInputLayers(semantic(sem), structured(str), keep_branches);
}

BranchesOut OfferNetImpl::FromInputLayers(const torch::Tensor& sem_pre,
                                          const torch::Tensor& str_pre, bool keep_branches) {
  const auto hs = torch::gelu(sem_pre);
  const auto hx = torch::gelu(str_pre);
  const auto g = torch::sigmoid(gate(torch::cat({hs, hx}, 1)));
  const auto h = dropout(hx + g * (hs - hx));
  const int64_t b = sem_pre.size(0);
  std::vector<torch::Tensor> outs;
  outs.reserve(fc1.size());
  for (size_t m = 0; m < fc1.size(); ++m) {
    const auto r = h + fc2[m](torch::gelu(fc1[m](h)));
    outs.push_back(out[m](r).view({b, tasks, offer_dim + 1}));
  }
  const auto stacked = torch::stack(outs, 0);  // [M, B, T, D + 1]
  const auto mix = Mix().view({-1, 1, 1, 1});
  const auto ens = (stacked * mix).sum(0);  // [B, T, D + 1]
  BranchesOut o;
  o.v = ens.narrow(2, 0, offer_dim);
  o.u = ens.select(2, offer_dim);
  if (keep_branches) {
    o.branch_v = stacked.narrow(3, 0, offer_dim);
    o.branch_u = stacked.select(3, offer_dim);
  }
  return o;
}

torch::Tensor OfferNetImpl::Gate(const torch::Tensor& sem, const torch::Tensor& str) {
  const auto hs = torch::gelu(semantic(sem));
  const auto hx = torch::gelu(structured(str));
  return torch::sigmoid(gate(torch::cat({hs, hx}, 1)));
}

std::pair<torch::Tensor, torch::Tensor> OfferNetImpl::Offers(const torch::Tensor& composition) {
  const auto table = composition.matmul(atoms);  // [O, D + T]
  return {table.narrow(1, 0, offer_dim), table.narrow(1, offer_dim, tasks)};
}

torch::Tensor OfferNetImpl::Mix() {
  return torch::softmax(mix_logits, 0);
}

torch::Tensor OfferLogits(const torch::Tensor& v, const torch::Tensor& u, const torch::Tensor& e,
                          const torch::Tensor& c) {
  // [B, T, D] x [D, O] -> [B, T, O]
  return torch::matmul(v, e.t()) + u.unsqueeze(2) + c.t().unsqueeze(0);
}

torch::Tensor OfferModel::Impl::Composition(const std::vector<op::OfferDescription>& offers,
                                            std::vector<bool>* known) const {
  auto comp = torch::zeros({static_cast<int64_t>(offers.size()), atom_count()});
  auto a = comp.accessor<float, 2>();
  if (known != nullptr) known->assign(offers.size(), false);
  auto index_of = [](const std::vector<std::string>& list, const std::string& s) -> int64_t {
    const auto it = std::find(list.begin(), list.end(), s);
    return it == list.end() ? -1 : static_cast<int64_t>(it - list.begin());
  };
  for (size_t i = 0; i < offers.size(); ++i) {
    const auto& o = offers[i];
    const auto r = static_cast<int64_t>(i);
    int64_t known_row = -1;
    for (size_t k = 0; k < spec.offers.size(); ++k) {
      if (spec.offers[k].id == o.id) known_row = static_cast<int64_t>(k);
    }
    if (known_row >= 0) {
      a[r][known_row] = 1.0f;
      if (known != nullptr) (*known)[i] = true;
    }
    std::vector<int64_t> intents;
    for (const auto& id : o.intents) {
      const int64_t k = index_of(spec.intents, id);
      if (k >= 0) intents.push_back(k);
    }
    for (int64_t k : intents) {
      a[r][atom_offers + k] = 1.0f / static_cast<float>(intents.size());
    }
    if (const int64_t k = index_of(spec.kinds, o.product_kind); k >= 0 && !o.product_kind.empty()) {
      a[r][atom_offers + atom_intents + k] = 1.0f;
    }
    if (const int64_t k = index_of(spec.products, o.product); k >= 0 && !o.product.empty()) {
      a[r][atom_offers + atom_intents + atom_kinds + k] = 1.0f;
    }
  }
  return comp;
}

void OfferModel::Impl::FoldStandardisation() {
  torch::NoGradGuard no_grad;
  auto fold = [](torch::nn::Linear& layer, const InputBlock& block, torch::Tensor* w,
                 torch::Tensor* b) {
    const auto n = static_cast<int64_t>(block.size());
    auto mean = torch::zeros({layer->weight.size(1)});
    auto inv_sd = torch::ones({layer->weight.size(1)});
    for (int64_t j = 0; j < n; ++j) {
      mean[j] = block.mean[static_cast<size_t>(j)];
      inv_sd[j] = 1.0f / std::max(block.sd[static_cast<size_t>(j)], 1e-6f);
    }
    // W (x - m) / s + b = (W / s) x + (b - (W / s) m)
    *w = (layer->weight * inv_sd.unsqueeze(0)).contiguous();
    *b = (layer->bias - w->matmul(mean)).contiguous();
  };
  fold(net->semantic, spec.semantic, &semantic_w, &semantic_b);
  fold(net->structured, spec.structured, &structured_w, &structured_b);
}

}  // namespace intentstream::model
