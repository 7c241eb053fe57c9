// Test fixture: a tiny CLIP vocabulary (model/clip_tokenizer.h) with the real byte symbols, so
// that single letters keep CLIP's ids ("a</w>" is 320): the 512 byte symbols (alone and with
// "</w>"), then "ca" 512, "cat</w>" 513, <|startoftext|> 514, <|endoftext|> 515; merges "c a" and
// "ca t</w>" unless others are given. `drop` removes vocabulary entries, to test the errors.
#pragma once

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QList>
#include <QStringList>
#include <stdexcept>

namespace fastgda::testing {

// GPT-2's byte symbols, in CLIP's vocabulary order (printable Latin-1 bytes first).
inline QStringList byteSymbols() {
  QList<int> bytes;
  for (int b = '!'; b <= '~'; ++b) bytes << b;
  for (int b = 0xA1; b <= 0xAC; ++b) bytes << b;
  for (int b = 0xAE; b <= 0xFF; ++b) bytes << b;
  QStringList symbols;
  for (const int b : bytes) symbols << QString(QChar(b));
  int next = 256;
  QStringList all(256);
  for (int i = 0; i < bytes.size(); ++i) all[bytes[i]] = symbols[i];
  for (int b = 0; b < 256; ++b)
    if (all[b].isEmpty()) all[b] = QString(QChar(next++));
  // vocabulary order: the printable bytes first, then the others in byte order
  QStringList ordered = symbols;
  for (int b = 0; b < 256; ++b)
    if (!bytes.contains(b)) ordered << all[b];
  return ordered;
}

inline void writeTinyClipVocabulary(const QString& vocabPath, const QString& mergesPath,
                                    const QByteArray& merges = "#version: 0.2\nc a\nca t</w>\n",
                                    const QStringList& drop = {}) {
  QJsonObject vocab;
  int id = 0;
  const QStringList symbols = byteSymbols();
  for (const QString& s : symbols) vocab[s] = id++;
  for (const QString& s : symbols) vocab[s + "</w>"] = id++;
  for (const char* s : {"ca", "cat</w>", "<|startoftext|>", "<|endoftext|>"}) vocab[s] = id++;
  for (const QString& s : drop) vocab.remove(s);
  for (const auto& [path, bytes] :
       {std::pair{vocabPath, QJsonDocument(vocab).toJson()}, std::pair{mergesPath, merges}}) {
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly))
      throw std::runtime_error("cannot write " + path.toStdString());
    f.write(bytes);
  }
}

}  // namespace fastgda::testing
