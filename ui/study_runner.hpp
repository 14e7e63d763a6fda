#pragma once
// Runs study computations in the background for a page: the newest request wins (an older one still
// running is cancelled and its result dropped), results are cached by their parameter key, and
// progress reaches the window's TaskProgress. Nothing here knows any numerics: a job is a function
// returning whatever the page shows (a study::Table, a snapshot, ...), carried as std::any.
#include <QFutureWatcher>
#include <QHash>
#include <QObject>
#include <QPointer>

#include <any>
#include <atomic>
#include <functional>
#include <memory>

#include "base/progress.hpp"

namespace ks::ui {

class TaskProgress;

class StudyRunner : public QObject {
    Q_OBJECT
public:
    using Job = std::function<std::any(const Progress&)>;

    explicit StudyRunner(QObject* parent = nullptr);
    ~StudyRunner() override;

    /// Show long jobs' progress here (may be null). Jobs shorter than ~300 ms never flash it.
    void setProgressWidget(TaskProgress* progress);
    void setCacheLimit(int entries) { cacheLimit_ = entries; }

    /// Start `job` for `key` (cached: answered at once). `label` names it in the status bar.
    void request(const QString& key, const QString& label, Job job);
    void cancel();
    bool isRunning() const;
    /// Blocks until the current job has finished (for tests and shutdown).
    void waitForFinished();

Q_SIGNALS:
    void finished(const QString& key, const std::any& result);
    void failed(const QString& key, const QString& message);
    void cancelled(const QString& key);
    void progressChanged(double fraction);

private:
    struct Running;
    void startNext();

    QPointer<TaskProgress> progress_;
    std::shared_ptr<Running> running_;
    struct Pending {
        QString key, label;
        Job job;
    };
    std::unique_ptr<Pending> pending_;
    QHash<QString, std::any> cache_;
    QList<QString> cacheOrder_;
    int cacheLimit_ = 64;
};

}  // namespace ks::ui
