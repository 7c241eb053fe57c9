// The text-to-image model: tokenizer, weights files, training (resumable, deterministic),
// generation (deterministic, batch-independent), a TorchScript bundle built here, and bad input.
#include <torch/script.h>
#include <torch/torch.h>
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include "bundle/bundle.h"
#include "bundle/model_files.h"
#include "data/image_pack.h"
#include "model/detail/networks.h"
#include "model/generator.h"
#include "model/model.h"
#include "model/tokenizer.h"
#include "model/trainer.h"
#include "support/errors.h"
#include "support/tiny_clip_vocabulary.h"
#include "support/tiny_model.h"
#include "util/error.h"

using namespace fastgda;

namespace {

using testing::makeTinyBundle;
using testing::tinyArchitecture;
using testing::tinyTraining;
const std::vector<std::string>& kCaptions = testing::tinyCaptions();

using testing::errorOf;

bool sameTensors(const std::string& a, const std::string& b) {
  torch::serialize::InputArchive x, y;
  x.load_from(a);
  y.load_from(b);
  const std::vector<std::string> keys = x.keys();
  if (keys != y.keys()) return false;
  for (const std::string& k : keys) {
    torch::Tensor s, t;
    x.read(k, s);
    y.read(k, t);
    if (!torch::equal(s, t)) return false;
  }
  return !keys.empty();
}

}  // namespace

class TestModel : public QObject {
  Q_OBJECT
 private slots:
  void tokenizerEncodesAndRejects() {
    const Tokenizer t = Tokenizer::build(kCaptions, 8);
    const std::vector<int64_t> ids = t.encode("Red apple, GOOGLE style");
    QCOMPARE(int(ids.size()), 8);
    QCOMPARE(ids[5], Tokenizer::kPad);
    QCOMPARE(t.words()[ids[2]], std::string(","));
    QCOMPARE(t.encode("")[0], Tokenizer::kEmpty);
    QVERIFY(errorOf([&] {
              t.encode("red banana");
            }).contains("'banana' is not in the model's vocabulary"));
    QVERIFY(errorOf([&] { t.encode("red red red red red red red red red"); }).contains("9 tokens"));
    const Tokenizer back = Tokenizer::fromJson(t.toJson(), "tok.json");
    QVERIFY(back.encode("thumbs down, twemoji style") == t.encode("thumbs down, twemoji style"));
    QVERIFY(errorOf([] {
              Tokenizer::fromJson("{\"max_tokens\": 4, \"words\": [\"a\"]}", "tok.json");
            }).contains("tok.json"));
    // fuzz_tokenizer's finding: every prompt is padded to max_tokens, so 233 million of them
    // made each encoding allocate 1.9 GB. Now refused when read.
    const QString huge = errorOf([] {
      Tokenizer::fromJson(R"({"max_tokens": 233333334, "words": ["[PAD]", "[EMPTY]", "a"]})",
                          "tok.json");
    });
    QVERIFY2(huge.contains("tok.json: tokenizer field 'max_tokens' is 233333334, expected a whole "
                           "number from 1 to 4096"),
             qPrintable(huge));
  }

  void weightsRoundTripAndBadFilesAreNamed() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("w.pt").toStdString();
    torch::manual_seed(1);
    fastgda::detail::NativeNetworks a(tinyArchitecture(), 20, 8);
    fastgda::detail::saveWeights(path, a.parts());
    fastgda::detail::NativeNetworks b(tinyArchitecture(), 20, 8);
    fastgda::detail::loadWeights(path, b.parts());
    QVERIFY(torch::equal(a.unet->named_parameters()["down0_attn.cross_attn.to_k.weight"],
                         b.unet->named_parameters()["down0_attn.cross_attn.to_k.weight"]));
    // Wrong shape: a vocabulary of 21 instead of 20.
    fastgda::detail::NativeNetworks wider(tinyArchitecture(), 21, 8);
    const QString shape = errorOf([&] { fastgda::detail::loadWeights(path, wider.parts()); });
    QVERIFY2(
        shape.contains(
            "w.pt: tensor 'text.token_embedding.weight' has shape [20, 16], expected [21, 16]"),
        qPrintable(shape));
    // Truncated and missing files.
    QFile f(dir.filePath("w.pt"));
    QVERIFY(f.open(QIODevice::ReadWrite));
    f.resize(f.size() / 2);
    f.close();
    QVERIFY(errorOf([&] {
              fastgda::detail::loadWeights(path, b.parts());
            }).contains("w.pt: cannot read weights"));
    QVERIFY(errorOf([&] {
              fastgda::detail::loadWeights(path + "x", b.parts());
            }).contains("w.ptx: weights file not found"));
  }

  void trainingResumesExactlyAndGenerationIsDeterministic() {
    QTemporaryDir straight, resumed;
    makeTinyBundle(straight.path());
    makeTinyBundle(resumed.path());
    trainModel(tinyTraining(straight.path(), 6));
    // The same training in two runs, as if the first had been stopped after 3 steps.
    const TrainReport first = trainModel(tinyTraining(resumed.path(), 3));
    QCOMPARE(first.step, 3);
    const TrainReport second = trainModel(tinyTraining(resumed.path(), 6));
    QCOMPARE(second.step, 6);
    QVERIFY(sameTensors(straight.filePath("model.pt").toStdString(),
                        resumed.filePath("model.pt").toStdString()));
    QVERIFY(QFile(resumed.filePath("training_loss.csv")).size() > 20);

    const auto model = loadModel(openBundle(resumed.path().toStdString()));
    GenerateOptions o;
    o.steps = 5;
    const Generated one = generate(*model, {"red apple, google style"}, {42}, o);
    const Generated again = generate(*model, {"red apple, google style"}, {42}, o);
    QCOMPARE(one.images.sizes().vec(), (std::vector<int64_t>{1, 3, 32, 32}));
    QCOMPARE(one.latents.sizes().vec(), (std::vector<int64_t>{1, 4, 8, 8}));
    QVERIFY(torch::equal(one.images, again.images));
    const Generated batch =
        generate(*model, {"thumbs up, google style", "red apple, google style"}, {7, 42}, o);
    QVERIFY(torch::allclose(batch.images[1], one.images[0], 1e-4, 1e-5));  // batch-independent
    QVERIFY(!torch::allclose(batch.images[0], one.images[0]));
    // Bad requests.
    o.steps = 0;
    QVERIFY(errorOf([&] { generate(*model, {"red apple"}, {1}, o); }).contains("DDIM steps is 0"));
    o.steps = 5;
    o.guidance = -1;
    QVERIFY(
        errorOf([&] { generate(*model, {"red apple"}, {1}, o); }).contains("guidance scale is -1"));
    o.guidance = 4;
    QVERIFY(errorOf([&] { generate(*model, {"purple apple"}, {1}, o); }).contains("'purple'"));
    QVERIFY(errorOf([&] { generate(*model, {"  "}, {1}, o); }).contains("prompt 0 is empty"));
  }

  void withoutCheckpointTrainingContinuesFromTheBundle() {
    QTemporaryDir dir;
    makeTinyBundle(dir.path());
    trainModel(tinyTraining(dir.path(), 4));
    QVERIFY(QDir(dir.filePath("checkpoint")).removeRecursively());  // a fresh clone has none
    std::vector<std::string> log;
    JobContext job;
    job.onLog = [&](const std::string& line) { log.push_back(line); };
    const TrainReport r = trainModel(tinyTraining(dir.path(), 6), job);
    QCOMPARE(r.step, 6);
    QVERIFY(!log.empty() && log[0].find("continuing from the bundle's model at diffusion step 4") !=
                                std::string::npos);
    const auto model = loadModel(openBundle(dir.path().toStdString()));
    QVERIFY(model->infoJson.find("\"diffusion_steps\":6") != std::string::npos);
  }

  void torchScriptBundleOpensAndGenerates() {
    QTemporaryDir dir;
    makeTinyBundle(dir.path());
    const Tokenizer tokenizer = Tokenizer::build(kCaptions, 8);
    QFile tf(dir.filePath("tokenizer.json"));
    QVERIFY(tf.open(QIODevice::WriteOnly));
    tf.write(QByteArray::fromStdString(tokenizer.toJson()));
    tf.close();
    torch::manual_seed(3);
    torch::jit::Module text("TextEncoder");
    text.register_parameter("embedding", torch::randn({tokenizer.vocabularySize(), 6}), false);
    text.define("def forward(self, tokens):\n  return torch.embedding(self.embedding, tokens)\n");
    text.save(dir.filePath("text.pt").toStdString());
    torch::jit::Module encoder("Encoder");
    encoder.define(
        "def forward(self, images):\n"
        "  x = torch.avg_pool2d(images, [4, 4])\n"
        "  return torch.cat([x, x[:, 0:1]], 1)\n");
    encoder.save(dir.filePath("encoder.pt").toStdString());
    torch::jit::Module decoder("Decoder");
    decoder.define(
        "def forward(self, latents):\n"
        "  return latents[:, 0:3].repeat_interleave(4, dim=2).repeat_interleave(4, dim=3)\n");
    decoder.save(dir.filePath("decoder.pt").toStdString());
    torch::jit::Module denoiser("Denoiser");
    denoiser.register_parameter("cross_attn_to_k", torch::randn({6, 4}), false);
    denoiser.register_parameter("cross_attn_to_v", torch::randn({6, 4}), false);
    denoiser.register_parameter("scale", torch::ones({1}), false);
    denoiser.define(
        "def forward(self, x, t, context, padding):\n"
        "  k = torch.matmul(context, self.cross_attn_to_k)\n"
        "  v = torch.matmul(context, self.cross_attn_to_v)\n"
        "  w = torch.softmax(k.sum(2) - 1e9 * padding.float(), 1).unsqueeze(2)\n"
        "  return x * self.scale * 0.1 + (w * v).sum(1).unsqueeze(2).unsqueeze(3)\n");
    denoiser.save(dir.filePath("denoiser.pt").toStdString());
    const std::string model = R"({"kind": "torchscript", "tokenizer": "tokenizer.json",
        "text_encoder": "text.pt", "image_encoder": "encoder.pt", "image_decoder": "decoder.pt",
        "denoiser": "denoiser.pt", "image_size": 32, "latent_shape": [4, 8, 8],
        "cross_attention_kv": ["cross_attn_to_k", "cross_attn_to_v"],
        "schedule": {"kind": "scaled_linear", "steps": 1000, "beta_start": 0.00085, "beta_end": 0.012}})";
    updateBundleMember(dir.path().toStdString(), "model", model);
    const auto m = loadModel(openBundle(dir.path().toStdString()));
    QCOMPARE(m->kind, std::string("torchscript"));
    std::vector<std::string> names;
    for (const auto& p : m->denoiser->namedParameters()) names.push_back(p.first);
    QVERIFY(std::find(names.begin(), names.end(), "cross_attn_to_k") != names.end());
    GenerateOptions o;
    o.steps = 4;
    const Generated a = generate(*m, {"red apple, google style"}, {5}, o);
    const Generated b = generate(*m, {"red apple, google style"}, {5}, o);
    QVERIFY(torch::equal(a.images, b.images));
    QCOMPARE(a.images.size(3), 32);

    // A decoder with the wrong output size is reported when the bundle opens.
    torch::jit::Module bad("Decoder");
    bad.define("def forward(self, latents):\n  return latents[:, 0:3]\n");
    bad.save(dir.filePath("decoder.pt").toStdString());
    const QString message = errorOf([&] { loadModel(openBundle(dir.path().toStdString())); });
    QVERIFY2(message.contains(
                 "decoder.pt: tensor 'output' has shape [1, 3, 8, 8], expected [1, 3, 32, 32]"),
             qPrintable(message));
    QFile::remove(dir.filePath("denoiser.pt"));
    QVERIFY(
        errorOf([&] { loadModel(openBundle(dir.path().toStdString())); }).contains("denoiser.pt"));
  }

  // A Stable Diffusion export's tokenizer member: CLIP ids reach the text encoder, nothing is
  // masked as padding, the tokenizer files are part of the model's identity and travel with
  // `dataset subset`'s list of model files.
  void torchScriptBundleWithAClipTokenizer() {
    QTemporaryDir dir;
    makeTinyBundle(dir.path());
    QDir(dir.path()).mkpath("tokenizer");
    testing::writeTinyClipVocabulary(dir.filePath("tokenizer/vocab.json"),
                                     dir.filePath("tokenizer/merges.txt"));
    torch::jit::Module text("TextEncoder");  // the context is the token id, to see the ids
    text.define(
        "def forward(self, tokens):\n  return tokens.float().unsqueeze(2).repeat(1, 1, 6)\n");
    text.save(dir.filePath("text.pt").toStdString());
    torch::jit::Module encoder("Encoder");
    encoder.define("def forward(self, images):\n  return torch.avg_pool2d(images, [4, 4])\n");
    encoder.save(dir.filePath("encoder.pt").toStdString());
    torch::jit::Module decoder("Decoder");
    decoder.define(
        "def forward(self, latents):\n"
        "  return latents.repeat_interleave(4, dim=2).repeat_interleave(4, dim=3)\n");
    decoder.save(dir.filePath("decoder.pt").toStdString());
    torch::jit::Module denoiser("Denoiser");
    denoiser.register_parameter("attn2_to_k", torch::ones({1}), false);
    denoiser.define(
        "def forward(self, x, t, context, padding):\n"
        "  return x * 0.1 * self.attn2_to_k + 0.0 * padding.float().sum()\n");
    denoiser.save(dir.filePath("denoiser.pt").toStdString());
    const std::string model = R"({"kind": "torchscript",
        "tokenizer": {"kind": "clip", "vocab": "tokenizer/vocab.json",
                      "merges": "tokenizer/merges.txt", "max_length": 8},
        "text_encoder": "text.pt", "image_encoder": "encoder.pt", "image_decoder": "decoder.pt",
        "denoiser": "denoiser.pt", "image_size": 32, "latent_shape": [3, 8, 8],
        "cross_attention_kv": ["attn2_to_k"],
        "schedule": {"kind": "scaled_linear", "steps": 1000, "beta_start": 0.00085, "beta_end": 0.012}})";
    updateBundleMember(dir.path().toStdString(), "model", model);
    const Bundle bundle = openBundle(dir.path().toStdString());
    const auto m = loadModel(bundle, "cpu");
    // "a cat": start 514, "a</w>" 320, "cat</w>" 513, end 515, then the end id as padding.
    const torch::Tensor tokens = m->tokenize({"a cat"});
    QCOMPARE(tokens.sizes().vec(), (std::vector<int64_t>{1, 8}));
    const std::vector<int64_t> ids(tokens.data_ptr<int64_t>(), tokens.data_ptr<int64_t>() + 8);
    QCOMPARE(ids, (std::vector<int64_t>{514, 320, 513, 515, 515, 515, 515, 515}));
    const auto [context, padding] = m->text->encode(tokens);
    QCOMPARE(context[0][2][0].item<float>(), 513.0f);
    QVERIFY(!padding.any().item<bool>());
    GenerateOptions o;
    o.steps = 2;
    QCOMPARE(generate(*m, {"a cat"}, {1}, o).images.size(3), 32);

    QStringList files;
    for (const auto& [field, file] : modelFiles(bundle))
      files << QString::fromStdString(field + "=" + file);
    QCOMPARE(files.join(' '),
             QStringLiteral("tokenizer=tokenizer/vocab.json tokenizer=tokenizer/merges.txt "
                            "text_encoder=text.pt image_encoder=encoder.pt "
                            "image_decoder=decoder.pt denoiser=denoiser.pt"));
    // Special tokens beside the vocabulary: SD 2.x pads with "!" (id 0), and the file joins the
    // model's identity.
    const std::string before = modelFingerprint(bundle);
    QFile map(dir.filePath("tokenizer/special_tokens_map.json"));
    QVERIFY(map.open(QIODevice::WriteOnly));
    map.write(R"({"pad_token": "!"})");
    map.close();
    QVERIFY(modelFingerprint(bundle) != before);
    QCOMPARE(loadModel(bundle, "cpu")->tokenize({"a cat"})[0][4].item<int64_t>(), int64_t(0));

    // A tokenizer member of another kind, or without its merges, is named.
    updateBundleMember(dir.path().toStdString(), "model",
                       QString::fromStdString(model)
                           .replace(R"("merges": "tokenizer/merges.txt", )", "")
                           .toStdString());
    QString message = errorOf([&] { loadModel(openBundle(dir.path().toStdString()), "cpu"); });
    QVERIFY2(message.contains("model field 'tokenizer.merges' is missing or not a string"),
             qPrintable(message));
    updateBundleMember(dir.path().toStdString(), "model",
                       QString::fromStdString(model)
                           .replace(R"("kind": "clip")", R"("kind": "sentencepiece")")
                           .toStdString());
    message = errorOf([&] { loadModel(openBundle(dir.path().toStdString()), "cpu"); });
    QVERIFY2(message.contains("'tokenizer.kind' is 'sentencepiece', expected 'clip'"),
             qPrintable(message));
  }

  void bundleWithoutModelSaysSo() {
    QTemporaryDir dir;
    makeTinyBundle(dir.path());
    const QString message = errorOf([&] { loadModel(openBundle(dir.path().toStdString())); });
    QVERIFY2(message.contains("has no 'model' member"), qPrintable(message));
  }
};

QTEST_GUILESS_MAIN(TestModel)
#include "tst_model.moc"
