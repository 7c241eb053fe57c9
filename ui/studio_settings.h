// The studio's saved settings, typed: every QSettings key and its default is written here once.
//
//   StudioSettings settings;                 // QSettings of the application (organisation set)
//   setComputeThreads(settings.threads());   // 0: all cores
//   settings.addRecentBundle(dir);           // most recent first, at most kMaxRecentBundles
#pragma once

#include <QByteArray>
#include <QSettings>
#include <QString>
#include <QStringList>

namespace fastgda::ui {

class StudioSettings {
 public:
  static constexpr int kMaxRecentBundles = 8;

  int threads() const;  // compute threads; 0: all cores
  void setThreads(int threads);
  // A device request of core/util/device.h: "auto" (the default), "cpu", "cuda:N".
  QString device() const;
  void setDevice(const QString& device);
  QString defaultBundle() const;  // "" : the built-in bundle
  void setDefaultBundle(const QString& dir);
  QStringList recentBundles() const;  // most recent first
  void addRecentBundle(const QString& dir);
  QString language() const;  // a catalogue's code; "": the system's language
  void setLanguage(const QString& code);
  QByteArray windowGeometry() const;
  QByteArray windowState() const;
  void setWindow(const QByteArray& geometry, const QByteArray& state);

 private:
  QSettings settings_;
};

}  // namespace fastgda::ui
