// The compute device (--device, util/device.h): what a request resolves to, the errors for one
// that is not here, the same answers on "cpu" and "auto" where auto is the CPU, TorchScript from
// PyTorch 2.x by LibTorch flavour, and, where a GPU is present, CUDA against the CPU.
#include <torch/cuda.h>
#include <torch/torch.h>
#include <torch/version.h>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include "attribution/ranking_metrics.h"
#include "bundle/bundle.h"
#include "data/dataset.h"
#include "model/generator.h"
#include "model/model.h"
#include "model/torchscript.h"
#include "session/attribution_session.h"
#include "support/cli.h"
#include "support/errors.h"
#include "teacher/teacher.h"
#include "util/device.h"

using namespace fastgda;
using fastgda::testing::errorOf;
using fastgda::testing::runCli;

namespace {

bool haveGpu() {
  return torch::cuda::device_count() > 0;
}

const char* kBuiltin = FASTGDA_SOURCE_DIR "/models/builtin";

QByteArray readAll(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

}  // namespace

class TestDevice : public QObject {
  Q_OBJECT
 private slots:
  void requestsResolveToADevice() {
    QCOMPARE(resolveDevice("cpu", "test"), std::string("cpu"));
    QCOMPARE(resolveDevice("auto", "test"), std::string(haveGpu() ? "cuda:0" : "cpu"));
    if (haveGpu()) {
      QCOMPARE(resolveDevice("cuda", "test"), std::string("cuda:0"));
      QCOMPARE(resolveDevice("cuda:0", "test"), std::string("cuda:0"));
    }
  }

  void aMalformedRequestNamesTheOptionAndWhatIsAccepted() {
    for (const char* bad : {"gpu", "cuda:", "cuda:-1", "cuda:1x", "CPU", "cuda:123456789"}) {
      const QString message = errorOf([&] { resolveDevice(bad, "fastgda teacher: --device"); });
      QVERIFY2(message.startsWith("fastgda teacher: --device: device '" + QString(bad) + "'"),
               qPrintable(message));
      QVERIFY2(message.contains("auto, cpu, cuda, cuda:N"), qPrintable(message));
    }
  }

  void aGpuThatIsNotHereIsRefusedWithTheReason() {
    const int64_t gpus = static_cast<int64_t>(torch::cuda::device_count());
    const std::string request = "cuda:" + std::to_string(gpus);  // one past the last
    const QString message = errorOf([&] { resolveDevice(request, "generate: --device"); });
    QVERIFY2(message.contains(QString::fromStdString("device '" + request + "'")),
             qPrintable(message));
    QVERIFY2(message.contains("LibTorch " TORCH_VERSION), qPrintable(message));
    const QJsonObject info =
        QJsonDocument::fromJson(QByteArray::fromStdString(computeInfoJson())).object();
    if (!info["cuda_compiled"].toBool())
      QVERIFY2(message.contains("build-torch2.sh"), qPrintable(message));
    else
      QVERIFY2(message.contains(QStringLiteral("sees %1 GPU").arg(gpus)), qPrintable(message));
  }

  void infoReportsLibTorchAndItsDevices() {
    const QJsonObject info =
        QJsonDocument::fromJson(QByteArray::fromStdString(computeInfoJson())).object();
    QCOMPARE(info["libtorch"].toString(), QStringLiteral(TORCH_VERSION));
    QCOMPARE(info["cuda_devices"].toArray().size(),
             static_cast<qsizetype>(torch::cuda::device_count()));
    QCOMPARE(info["auto_device"].toString(), QString::fromStdString(resolveDevice("auto", "t")));
    // Debian's LibTorch has no CUDA; PyTorch 2.x's wheel has.
    QCOMPARE(info["cuda_compiled"].toBool(), TORCH_VERSION_MAJOR >= 2);
    const auto r = runCli({"info", "--bundle", kBuiltin, "--json"});
    QCOMPARE(r.exitCode, 0);
    QCOMPARE(QJsonDocument::fromJson(r.out.toUtf8()).object()["compute"].toObject(), info);
  }

  void theModelLivesOnTheDeviceAskedFor() {
    const auto model = loadModel(openBundle(kBuiltin), "cpu");
    QVERIFY(model->device == torch::Device(torch::kCPU));
    for (const auto& [name, p] : model->denoiser->namedParameters())
      QVERIFY2(p.device() == model->device, name.c_str());
    const QString message = errorOf([] { loadModel(openBundle(kBuiltin), "tpu"); });
    QVERIFY2(message.contains("bundle.json: model: device 'tpu'"), qPrintable(message));
  }

  // Here "auto" is the CPU (no GPU), so both must give the same bytes; where a GPU is, the
  // comparison is cudaAgreesWithTheCpu's.
  void cpuAndAutoGiveTheSameImage() {
    if (haveGpu()) QSKIP("auto is a GPU here: cudaAgreesWithTheCpu compares the two");
    QTemporaryDir dir;
    for (const char* device : {"cpu", "auto"}) {
      const auto r =
          runCli({"generate", "--bundle", kBuiltin, "--prompt", "red apple, google style", "--seed",
                  "3", "--steps", "10", "--device", device, "--threads", "1", "--out",
                  dir.filePath(QString(device) + ".png"), "--latent",
                  dir.filePath(QString(device) + ".npy")});
      QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    }
    QCOMPARE(readAll(dir.filePath("cpu.npy")), readAll(dir.filePath("auto.npy")));
    QCOMPARE(readAll(dir.filePath("cpu.png")), readAll(dir.filePath("auto.png")));
  }

  void everyComputingCommandRefusesAnUnknownDevice() {
    for (const QStringList& command :
         {QStringList{"generate", "--prompt", "red apple"}, QStringList{"bench", "generate"},
          QStringList{"teacher", "--prompt", "red apple"}, QStringList{"distill"},
          QStringList{"attribute", "--prompt", "red apple"}, QStringList{"eval"},
          QStringList{"train-model"}, QStringList{"fidelity"},
          QStringList{"counterfactual", "measure", "--all"},
          QStringList{"teacher-repeatability"}}) {
      const auto r = runCli(command + QStringList{"--bundle", kBuiltin, "--device", "quantum"});
      QVERIFY2(r.exitCode == 1, qPrintable(command.join(' ') + ": " + r.err));
      QVERIFY2(r.err.contains("--device: device 'quantum' is not one of"),
               qPrintable(command.join(' ') + ": " + r.err));
    }
  }

  // A module saved by PyTorch 2.11 that calls scaled_dot_product_attention (as diffusers UNets
  // do; fixtures/make-torch2-attention.py): LibTorch 1.13 lacks the operator and must say which
  // LibTorch the file needs; a 2.x LibTorch runs it.
  void torchScriptFromPyTorch2NeedsTheTorch2Build() {
    const std::string file = FASTGDA_SOURCE_DIR "/tests/model/fixtures/torch2-attention.pt";
    if (TORCH_VERSION_MAJOR < 2) {
      const QString message =
          errorOf([&] { loadTorchScript(file, torch::Device(torch::kCPU), "denoiser"); });
      QVERIFY2(message.startsWith(QString::fromStdString(file + ": cannot load the TorchScript "
                                                                "denoiser (archive version ")),
               qPrintable(message));
      QVERIFY2(message.contains("this LibTorch is " TORCH_VERSION), qPrintable(message));
      QVERIFY2(message.contains("scripts/build-torch2.sh"), qPrintable(message));
    } else {
      torch::jit::Module m = loadTorchScript(file, torch::Device(torch::kCPU), "denoiser");
      const torch::Tensor x = torch::randn({2, 5, 8});
      const torch::Tensor y = m.forward({x}).toTensor();
      QCOMPARE(y.sizes().vec(), x.sizes().vec());
      // Attention of x with itself: each row a convex combination of x's rows.
      QVERIFY(torch::allclose(
          y, torch::softmax(x.matmul(x.transpose(1, 2)) / std::sqrt(8.0), -1).matmul(x), 1e-5,
          1e-5));
    }
  }

  // The same work on a GPU and on the CPU: images close, the teacher's ranking and the student's
  // scores in agreement within the tolerances of the GPU issue (mAP@10 >= 0.9; scores 1e-3
  // relative). Only where a GPU is; elsewhere it says why it skipped.
  void cudaAgreesWithTheCpu() {
    if (!haveGpu())
      QSKIP(qPrintable(
          QStringLiteral("no GPU: LibTorch %1 %2")
              .arg(TORCH_VERSION)
              .arg(TORCH_VERSION_MAJOR >= 2 ? "has CUDA but sees no device" : "has no CUDA")));
    const auto cpu = AttributionSession::open(kBuiltin, "cpu");
    const auto gpu = AttributionSession::open(kBuiltin, "cuda:0");
    QCOMPARE(gpu->device(), std::string("cuda:0"));
    // Generation: the starting noise is drawn on the CPU, so only rounding differs.
    const Query a = cpu->generate("red apple, google style", 5, 50, 4.0);
    const Query b = gpu->generate("red apple, google style", 5, 50, 4.0);
    double worst = 0;
    for (size_t i = 0; i < a.latent.size(); ++i)
      worst = std::max(worst, std::abs(double(a.latent[i]) - double(b.latent[i])));
    QVERIFY2(worst < 0.05, qPrintable(QStringLiteral("latents differ by %1").arg(worst)));
    // Student: the same query's top 100 and scores.
    cpu->openStudent();
    gpu->openStudent();
    const Ranking sc = cpu->rank("student", a, 100), sg = gpu->rank("student", a, 100);
    QVERIFY(averagePrecisionAtK(sg.indices, sc.indices, 10) >= 0.9);
    for (size_t i = 0; i < 10; ++i)
      QVERIFY(std::abs(sc.scores[i] - sg.scores[i]) <= 1e-3 * std::abs(sc.scores[i]) + 1e-6);
    // Teacher on a thousand candidates of the first stored test query.
    const auto model = loadModel(openBundle(kBuiltin), "cpu");
    const auto onGpu = loadModel(openBundle(kBuiltin), "cuda:0");
    const auto data = openBundle(kBuiltin).openDataset();
    std::vector<int64_t> candidates;
    for (int64_t i = 0; i < 1000; ++i) candidates.push_back(i * (data->size() / 1000));
    QTemporaryDir cacheCpu, cacheGpu;
    Teacher tc(model, *data, TeacherOptions{}, cacheCpu.path().toStdString());
    Teacher tg(onGpu, *data, TeacherOptions{}, cacheGpu.path().toStdString());
    const torch::Tensor latent = torch::tensor(a.latent).view(
        {1, model->latentShape[0], model->latentShape[1], model->latentShape[2]});
    const Ranking rc = tc.attribute({latent, a.prompt}, candidates);
    const Ranking rg = tg.attribute({latent, a.prompt}, candidates);
    const double map10 = averagePrecisionAtK(rg.indices, rc.indices, 10);
    QVERIFY2(map10 >= 0.9, qPrintable(QStringLiteral("teacher mAP@10 GPU vs CPU %1").arg(map10)));
  }
};

QTEST_GUILESS_MAIN(TestDevice)
#include "tst_device.moc"
