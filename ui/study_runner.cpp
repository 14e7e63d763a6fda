#include "study_runner.hpp"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QTimer>
#include <QtConcurrent/QtConcurrentRun>

#include <optional>

#include "qt_text.hpp"
#include "task_progress.hpp"

namespace ks::ui {

namespace {

/// What a job ended with; exceptions are caught on the worker thread (QtConcurrent would replace
/// them with an opaque QUnhandledException).
struct Outcome {
    std::optional<std::any> table;
    QString error;
    bool cancelled = false;
};

}  // namespace

struct StudyRunner::Running {
    QString key, label;
    std::atomic<bool> cancel{false};
    std::atomic<double> fraction{0.0};
    QFutureWatcher<Outcome> watcher;
    QTimer progressTimer;  // polls the fraction: ~25 updates a second, no signal storm from workers
    QElapsedTimer started;
};

StudyRunner::StudyRunner(QObject* parent) : QObject(parent) {}

StudyRunner::~StudyRunner() {
    pending_.reset();
    if (running_) {
        running_->cancel = true;
        running_->watcher.waitForFinished();
    }
}

void StudyRunner::setProgressWidget(TaskProgress* progress) { progress_ = progress; }

bool StudyRunner::isRunning() const { return running_ != nullptr; }

void StudyRunner::request(const QString& key, const QString& label, Job job) {
    if (auto it = cache_.constFind(key); it != cache_.constEnd()) {
        pending_.reset();
        if (running_) running_->cancel = true;  // a newer request (this one) wins
        Q_EMIT finished(key, *it);
        return;
    }
    pending_ = std::make_unique<Pending>(Pending{key, label, std::move(job)});
    if (running_) {
        if (running_->key != key) running_->cancel = true;  // it will start the pending one when it stops
        else pending_.reset();                              // the same work is already under way
        return;
    }
    startNext();
}

void StudyRunner::cancel() {
    pending_.reset();
    if (running_) running_->cancel = true;
}

void StudyRunner::waitForFinished() {
    while (running_) {
        running_->watcher.waitForFinished();
        QCoreApplication::sendPostedEvents();
        QCoreApplication::processEvents();
    }
}

void StudyRunner::startNext() {
    if (!pending_) return;
    std::unique_ptr<Pending> next = std::move(pending_);
    auto run = std::make_shared<Running>();
    run->key = next->key;
    run->label = next->label;
    run->started.start();
    running_ = run;

    Running* raw = run.get();
    connect(&run->progressTimer, &QTimer::timeout, this, [this, raw] {
        if (running_.get() != raw) return;
        if (progress_ && !progress_->isBusy() && raw->started.elapsed() > 300)
            progress_->begin(raw->label, [this] { cancel(); });
        if (progress_ && progress_->isBusy()) progress_->setProgress(raw->fraction.load());
        Q_EMIT progressChanged(raw->fraction.load());
    });
    run->progressTimer.start(40);

    connect(&run->watcher, &QFutureWatcher<Outcome>::finished, this, [this, run] {
        run->progressTimer.stop();
        running_.reset();
        if (progress_ && progress_->isBusy() && !pending_) progress_->finish();
        const bool superseded = run->cancel.load();
        const Outcome outcome = run->watcher.result();
        if (outcome.table) {
            cache_.insert(run->key, *outcome.table);  // finished work is kept even when superseded
            cacheOrder_.append(run->key);
            while (cacheOrder_.size() > cacheLimit_) cache_.remove(cacheOrder_.takeFirst());
        }
        if (outcome.cancelled || (superseded && outcome.table)) Q_EMIT cancelled(run->key);
        else if (outcome.table) Q_EMIT finished(run->key, *outcome.table);
        else if (!superseded) Q_EMIT failed(run->key, outcome.error);
        startNext();
    });
    Job job = std::move(next->job);
    run->watcher.setFuture(QtConcurrent::run([job = std::move(job), raw]() {
        const Progress progress([raw](double f) { raw->fraction.store(f); }, &raw->cancel);
        Outcome outcome;
        try {
            outcome.table = job(progress);
        } catch (const Cancelled&) {
            outcome.cancelled = true;
        } catch (const std::exception& e) {
            outcome.error = q(e.what());
        } catch (...) {
            outcome.error = QStringLiteral("unknown error");
        }
        return outcome;
    }));
}

}  // namespace ks::ui
