// Optimiser checkpoints: a resumed run continues exactly, a checkpoint written by another
// LibTorch (its state named in another way) gives each parameter its own state, and a state that
// does not fit is an error naming the file and the parameter.
#include <torch/torch.h>

#include <QTemporaryDir>
#include <QTest>

#include "support/errors.h"
#include "util/error.h"
#include "util/optimizer_state.h"

using namespace fastgda;
using fastgda::testing::errorOf;

namespace {

// Two layers whose weights have different shapes, in two groups (as the student's optimiser).
struct Net : torch::nn::Module {
  Net() {
    torch::manual_seed(3);
    first = register_module("first", torch::nn::Linear(4, 6));
    second = register_module("second", torch::nn::Linear(6, 2));
  }
  torch::Tensor forward(const torch::Tensor& x) { return second(torch::tanh(first(x))); }
  torch::nn::Linear first{nullptr}, second{nullptr};
};

std::unique_ptr<torch::optim::AdamW> optimiserOf(Net& net) {
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(net.first->parameters(), std::make_unique<torch::optim::AdamWOptions>(1e-2));
  groups.emplace_back(net.second->parameters(),
                      std::make_unique<torch::optim::AdamWOptions>(
                          torch::optim::AdamWOptions(1e-1).weight_decay(0)));
  return std::make_unique<torch::optim::AdamW>(std::move(groups));
}

void steps(Net& net, torch::optim::Optimizer& optimiser, int count) {
  torch::manual_seed(11);
  for (int i = 0; i < count; ++i) {
    const torch::Tensor x = torch::randn({8, 4});
    optimiser.zero_grad();
    net.forward(x).pow(2).mean().backward();
    optimiser.step();
  }
}

// `into` given the weights of another network after `count` steps of its own optimiser: what a
// new process restores from a checkpoint's weights.
void trainFirstSteps(Net& into, int count) {
  Net first;
  auto optimiser = optimiserOf(first);
  steps(first, *optimiser, count);
  torch::NoGradGuard noGrad;
  auto from = first.parameters(), to = into.parameters();
  for (size_t i = 0; i < from.size(); ++i) to[i].copy_(from[i]);
}

bool sameParameters(Net& a, Net& b) {
  auto pa = a.parameters(), pb = b.parameters();
  for (size_t i = 0; i < pa.size(); ++i)
    if (!torch::equal(pa[i], pb[i])) return false;
  return true;
}

}  // namespace

class TestOptimizerState : public QObject {
  Q_OBJECT
 private slots:
  void aResumedRunContinuesExactly() {
    Net straight;
    auto straightOptimiser = optimiserOf(straight);
    steps(straight, *straightOptimiser, 3);
    const QTemporaryDir dir;
    const std::string file = dir.filePath("optimizer.pt").toStdString();
    saveOptimizerState(*straightOptimiser, file);
    steps(straight, *straightOptimiser, 2);

    // A new process would have new tensors at new addresses: a second network stands for it.
    Net resumed;
    trainFirstSteps(resumed, 3);
    auto resumedOptimiser = optimiserOf(resumed);
    loadOptimizerState(*resumedOptimiser, file, torch::kCPU);
    steps(resumed, *resumedOptimiser, 2);
    QVERIFY(sameParameters(straight, resumed));

    // Without the state the two runs part: the check above can fail.
    Net fresh;
    trainFirstSteps(fresh, 3);
    auto freshOptimiser = optimiserOf(fresh);
    steps(fresh, *freshOptimiser, 2);
    QVERIFY(!sameParameters(straight, fresh));
  }

  // LibTorch 1.x names each state by its tensor's address in hex ("0x55ae9c00f680"), which 2.x
  // reads as the number 0: every parameter then took one state. Written here by hand in that
  // layout, states listed in another order than the parameters.
  void aCheckpointOfAnotherLibTorchGivesEachParameterItsState() {
    Net net;
    auto optimiser = optimiserOf(net);
    const std::vector<std::string> names = {"0x55ae9c00f680", "0x55ae95843670", "0x55ae9c00a840",
                                            "0x55ae9bffb4d0"};
    const auto params = net.parameters();  // first.weight, first.bias, second.weight, second.bias
    torch::serialize::OutputArchive archive;
    archive.write("pytorch_version", c10::IValue("1.5.0"));
    torch::serialize::OutputArchive states(archive.compilation_unit());
    for (size_t i = params.size(); i-- > 0;) {
      torch::optim::AdamWParamState state;
      state.step(7);
      state.exp_avg(torch::full_like(params[i], double(i + 1)));
      state.exp_avg_sq(torch::full_like(params[i], double(10 * (i + 1))));
      torch::serialize::OutputArchive one(archive.compilation_unit());
      state.serialize(one);
      states.write(names[i], one);
    }
    archive.write("state", states);
    torch::serialize::OutputArchive groups(archive.compilation_unit());
    groups.write("param_groups/size", torch::tensor(int64_t{2}));
    for (int g = 0; g < 2; ++g) {
      torch::serialize::OutputArchive group(archive.compilation_unit());
      group.write("params/size", torch::tensor(int64_t{2}));
      for (int p = 0; p < 2; ++p)
        group.write("params/" + std::to_string(p), c10::IValue(names[size_t(2 * g + p)]));
      torch::serialize::OutputArchive options(archive.compilation_unit());
      torch::optim::AdamWOptions(g == 0 ? 0.5 : 0.25).serialize(options);
      group.write("options", options);
      groups.write("param_groups/" + std::to_string(g), group);
    }
    archive.write("param_groups", groups);
    const QTemporaryDir dir;
    const std::string file = dir.filePath("optimizer.pt").toStdString();
    archive.save_to(file);

    loadOptimizerState(*optimiser, file, torch::kCPU);
    QCOMPARE(static_cast<torch::optim::AdamWOptions&>(optimiser->param_groups()[1].options()).lr(),
             0.25);
    // Written back (names by position now), each parameter has its own state.
    const std::string again = dir.filePath("again.pt").toStdString();
    saveOptimizerState(*optimiser, again);
    torch::serialize::InputArchive in;
    in.load_from(again);
    torch::serialize::InputArchive inStates, inGroups;
    in.read("state", inStates);
    in.read("param_groups", inGroups);
    for (size_t i = 0; i < params.size(); ++i) {
      torch::serialize::InputArchive group, one;
      inGroups.read("param_groups/" + std::to_string(i / 2), group);
      c10::IValue name;
      group.read("params/" + std::to_string(i % 2), name);
      inStates.read(name.toStringRef(), one);
      torch::optim::AdamWParamState state;
      state.serialize(one);
      QCOMPARE(state.step(), int64_t{7});
      QVERIFY2(torch::equal(state.exp_avg(), torch::full_like(params[i], double(i + 1))),
               qPrintable(QString("parameter %1 took another's state").arg(i)));
    }
    // And a step runs with them.
    for (auto& p : params) p.mutable_grad() = torch::zeros_like(p);
    optimiser->step();
  }

  void aStateThatDoesNotFitIsNamed() {
    Net net;
    auto optimiser = optimiserOf(net);
    steps(net, *optimiser, 1);
    const QTemporaryDir dir;
    const std::string file = dir.filePath("optimizer.pt").toStdString();
    saveOptimizerState(*optimiser, file);

    // Another architecture: first layer 4→5.
    struct Other : torch::nn::Module {
      Other() {
        first = register_module("first", torch::nn::Linear(4, 5));
        second = register_module("second", torch::nn::Linear(5, 2));
      }
      torch::nn::Linear first{nullptr}, second{nullptr};
    } other;
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(other.first->parameters(),
                        std::make_unique<torch::optim::AdamWOptions>(1e-2));
    groups.emplace_back(other.second->parameters(),
                        std::make_unique<torch::optim::AdamWOptions>(1e-1));
    torch::optim::AdamW otherOptimiser(std::move(groups));
    const QString error = errorOf([&] { loadOptimizerState(otherOptimiser, file, torch::kCPU); });
    QVERIFY2(error.contains("optimizer.pt: the state of parameter 0 of group 0 has shape [6, 4], "
                            "the parameter [5, 4]"),
             qPrintable(error));
    QVERIFY(otherOptimiser.state().empty());  // left as it was

    // One group instead of two.
    torch::optim::AdamW oneGroup(net.parameters(), torch::optim::AdamWOptions(1e-2));
    QVERIFY(errorOf([&] {
              loadOptimizerState(oneGroup, file, torch::kCPU);
            }).contains("optimizer.pt: 2 parameter groups, the optimiser has 1"));

    // A truncated file.
    QFile whole(QString::fromStdString(file));
    QVERIFY(whole.open(QIODevice::ReadWrite));
    whole.resize(whole.size() / 2);
    whole.close();
    QVERIFY(errorOf([&] {
              loadOptimizerState(*optimiser, file, torch::kCPU);
            }).contains("optimizer.pt: cannot read the optimiser state"));
  }
};

QTEST_GUILESS_MAIN(TestOptimizerState)
#include "tst_optimizer_state.moc"
