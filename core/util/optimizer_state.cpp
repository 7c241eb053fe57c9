#include "util/optimizer_state.h"

#include <map>
#include <memory>
#include <sstream>
#include <type_traits>

#include <torch/optim.h>
#include <torch/serialize.h>

#include "util/error.h"

namespace fastgda {
namespace {

// The layout of LibTorch's own writer (so that its reader takes these files too), with the
// parameters named by their position, 1, 2, ..., over all groups.
constexpr const char* kLayoutVersion = "1.5.0";

std::string shapeText(at::IntArrayRef sizes) {
  std::ostringstream text;
  text << sizes;
  return text.str();
}

// The optimiser's key for a parameter's state: the TensorImpl's address printed by `<<` in
// LibTorch 1.x, the address itself in 2.x.
template <class StateMap>
typename StateMap::key_type stateKey(const StateMap&, c10::TensorImpl* impl) {
  if constexpr (std::is_same_v<typename StateMap::key_type, std::string>) {
    std::ostringstream text;
    text << impl;
    return text.str();
  } else {
    return impl;
  }
}

template <class State, class Options>
void save(const torch::optim::Optimizer& optimizer, torch::serialize::OutputArchive& archive) {
  archive.write("pytorch_version", c10::IValue(kLayoutVersion));
  torch::serialize::OutputArchive states(archive.compilation_unit());
  torch::serialize::OutputArchive groups(archive.compilation_unit());
  const auto& groupList = optimizer.param_groups();
  groups.write("param_groups/size", torch::tensor(static_cast<int64_t>(groupList.size())));
  int64_t name = 0;
  for (size_t g = 0; g < groupList.size(); ++g) {
    torch::serialize::OutputArchive group(archive.compilation_unit());
    const std::vector<torch::Tensor>& params = groupList[g].params();
    group.write("params/size", torch::tensor(static_cast<int64_t>(params.size())));
    for (size_t p = 0; p < params.size(); ++p) {
      const std::string key = std::to_string(++name);
      group.write("params/" + std::to_string(p), c10::IValue(key));
      const auto found =
          optimizer.state().find(stateKey(optimizer.state(), params[p].unsafeGetTensorImpl()));
      if (found == optimizer.state().end()) continue;  // no step taken with it yet
      torch::serialize::OutputArchive state(archive.compilation_unit());
      static_cast<const State&>(*found->second).serialize(state);
      states.write(key, state);
    }
    torch::serialize::OutputArchive options(archive.compilation_unit());
    static_cast<const Options&>(groupList[g].options()).serialize(options);
    group.write("options", options);
    groups.write("param_groups/" + std::to_string(g), group);
  }
  archive.write("state", states);
  archive.write("param_groups", groups);
}

template <class State, class Options>
void load(torch::optim::Optimizer& optimizer, torch::serialize::InputArchive& archive,
          const std::string& path) {
  c10::IValue version;
  archive.read("pytorch_version", version);
  if (!version.isString() || version.toStringRef() != kLayoutVersion)
    fail(path, ": optimiser state in an unknown layout (expected version ", kLayoutVersion, ")");
  torch::serialize::InputArchive states;
  archive.read("state", states);
  std::map<std::string, State> saved;
  for (const std::string& key : states.keys()) {
    torch::serialize::InputArchive state;
    states.read(key, state);
    saved[key].serialize(state);
  }

  torch::serialize::InputArchive groups;
  archive.read("param_groups", groups);
  torch::Tensor groupCount;
  groups.read("param_groups/size", groupCount);
  auto& groupList = optimizer.param_groups();
  if (groupCount.item<int64_t>() != static_cast<int64_t>(groupList.size()))
    fail(path, ": ", groupCount.item<int64_t>(), " parameter groups, the optimiser has ",
         groupList.size());
  // Checked whole before anything changes: a state that does not fit leaves the optimiser as it
  // was.
  std::vector<std::pair<torch::Tensor, State>> found;
  std::vector<Options> options;
  for (size_t g = 0; g < groupList.size(); ++g) {
    torch::serialize::InputArchive group;
    groups.read("param_groups/" + std::to_string(g), group);
    torch::Tensor count;
    group.read("params/size", count);
    const std::vector<torch::Tensor>& params = groupList[g].params();
    if (count.item<int64_t>() != static_cast<int64_t>(params.size()))
      fail(path, ": parameter group ", g, " has ", count.item<int64_t>(),
           " parameters, the optimiser's has ", params.size());
    for (size_t p = 0; p < params.size(); ++p) {
      c10::IValue key;
      group.read("params/" + std::to_string(p), key);
      const auto state = saved.find(key.toStringRef());
      if (state == saved.end()) continue;
      const torch::Tensor& average = state->second.exp_avg();
      if (!average.defined() || average.sizes() != params[p].sizes())
        fail(path, ": the state of parameter ", p, " of group ", g, " has shape ",
             average.defined() ? shapeText(average.sizes()) : "(none)", ", the parameter ",
             shapeText(params[p].sizes()));
      found.emplace_back(params[p], state->second);
    }
    torch::serialize::InputArchive groupOptions;
    group.read("options", groupOptions);
    options.emplace_back(0.0);
    options.back().serialize(groupOptions);
  }
  auto& stateMap = optimizer.state();
  stateMap.clear();
  for (auto& [param, state] : found)
    stateMap[stateKey(stateMap, param.unsafeGetTensorImpl())] = std::make_unique<State>(state);
  for (size_t g = 0; g < groupList.size(); ++g)
    static_cast<Options&>(groupList[g].options()) = options[g];
}

}  // namespace

void saveOptimizerState(const torch::optim::Optimizer& optimizer, const std::string& path) {
  torch::serialize::OutputArchive archive;
  if (dynamic_cast<const torch::optim::AdamW*>(&optimizer))
    save<torch::optim::AdamWParamState, torch::optim::AdamWOptions>(optimizer, archive);
  else if (dynamic_cast<const torch::optim::Adam*>(&optimizer))
    save<torch::optim::AdamParamState, torch::optim::AdamOptions>(optimizer, archive);
  else
    fail(path, ": only Adam and AdamW optimiser states can be saved");
  try {
    archive.save_to(path);
  } catch (const c10::Error&) {
    fail(path, ": cannot write the optimiser state");
  }
}

void loadOptimizerState(torch::optim::Optimizer& optimizer, const std::string& path,
                        const c10::Device& device) {
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path, device);
    if (dynamic_cast<torch::optim::AdamW*>(&optimizer))
      load<torch::optim::AdamWParamState, torch::optim::AdamWOptions>(optimizer, archive, path);
    else if (dynamic_cast<torch::optim::Adam*>(&optimizer))
      load<torch::optim::AdamParamState, torch::optim::AdamOptions>(optimizer, archive, path);
    else
      fail(path, ": only Adam and AdamW optimiser states can be read");
  } catch (const c10::Error& e) {
    fail(path, ": cannot read the optimiser state (truncated, or not an optimiser's): ",
         e.what_without_backtrace());
  }
}

}  // namespace fastgda
