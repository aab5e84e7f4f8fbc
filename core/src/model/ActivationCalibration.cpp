#include "model/ActivationCalibration.h"

#include "quantscope/model/BatchPlan.h"

#include <algorithm>

namespace quantscope {

void ActivationCalibration::observe(const Executor& executor, const SampleSet& samples, int64_t batchSize,
                                    const ProgressCallback& progress,
                                    const std::function<bool(const std::string&)>& needed,
                                    const SpecFor& specFor) {
    const BatchPlan plan(executor.graph(), batchSize);
    std::map<std::string, Observer*> observers; // of this pass: null when the value is not observed
    int64_t runRows = 0, realRows = 0;
    Executor::Hooks hooks;
    hooks.onValue = [&](const std::string& name, Value& value) {
        if (value.isInteger())
            return;
        auto [seen, first] = observers.try_emplace(name, nullptr);
        auto [found, added] = m_activations.try_emplace(name);
        Activation& activation = found->second;
        if (added)
            m_order.push_back(name);
        if (first && needed(name)) {
            activation.observers.push_back(makeObserver(specFor(name)));
            seen->second = activation.observers.back().get();
        }
        // The padded rows of a fixed-batch model's last run never reach an observer.
        if (seen->second)
            seen->second->observe(plan.realValues(name, value, runRows, realRows));
        activation.batched = activation.batched && plan.followsBatch(name, value, runRows);
        activation.shape = value.shape;
    };
    for (int64_t first = 0; first < samples.count(); first += plan.batch()) {
        realRows = std::min(plan.batch(), samples.count() - first);
        runRows = plan.rowsFor(realRows);
        executor.run(plan.inputs(samples, first, realRows), hooks);
        reportProgress(progress, Stage::Statistics,
                       static_cast<double>(first + realRows) / static_cast<double>(samples.count()));
    }
    m_path = samples.path();
    m_samples = samples.count();
}

void ActivationCalibration::merge(ActivationCalibration&& added) {
    for (auto& [name, activation] : added.m_activations) {
        auto [found, isNew] = m_activations.try_emplace(name);
        if (isNew)
            m_order.push_back(name);
        for (auto& observer : activation.observers)
            found->second.observers.push_back(std::move(observer));
    }
}

Observer* ActivationCalibration::observerFor(const std::string& name, const QuantSpec& spec) const {
    const auto found = m_activations.find(name);
    if (found == m_activations.end())
        return nullptr;
    for (const auto& observer : found->second.observers)
        if (observer->canServe(spec))
            return observer.get();
    return nullptr;
}

std::optional<std::map<std::string, QParamsEntry>>
ActivationCalibration::entries(const SpecFor& specFor, const QParamsDocument* given) const {
    std::map<std::string, QParamsEntry> result;
    for (const auto& name : m_order) {
        const Activation& activation = m_activations.at(name);
        QParamsEntry entry;
        entry.name = name;
        entry.kind = TensorKind::Activation;
        entry.shape = activation.shape;
        if (activation.batched && !entry.shape.empty())
            entry.shape[0] = m_samples; // the shape of the whole calibration set
        entry.spec = specFor(name);
        const QParamsEntry* written = given ? given->find(name) : nullptr;
        if (written && written->params) {
            entry.params = written->params; // applied exactly as written
        } else {
            Observer* observer = observerFor(name, entry.spec);
            if (!observer)
                return std::nullopt;
            observer->serve(entry.spec);
            entry.params = observedParams(*observer, entry.spec);
        }
        result[name] = std::move(entry);
    }
    return result;
}

} // namespace quantscope
