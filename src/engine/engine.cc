#include "weft/engine/engine.h"

#include <unistd.h>

#include <cstdio>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "async_util.h"
#include "engine_impl.h"
#include "weft/core/blocking.h"
#include "weft/core/courier.h"
#include "weft/core/ids.h"
#include "weft/core/json.h"
#include "weft/core/numeric_cast.h"
#include "weft/dsl/loader.h"
#include "weft/store/record_json.h"

namespace weft::engine {

namespace {

std::string DefaultOwner() {
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  return std::string(host) + "/" + std::to_string(getpid());
}

}  // namespace

Engine::Impl::Impl(EngineOptions o) : options(std::move(o)) {
  clock = options.clock != nullptr ? options.clock : &SystemClock::Instance();
  if (options.random == nullptr) {
    own_random = std::make_unique<DefaultRandom>();
    random = own_random.get();
  } else {
    random = options.random;
  }
  owner = options.owner.empty() ? DefaultOwner() : options.owner;
  work = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(io.get_executor());
  blocking = std::make_unique<asio::thread_pool>(static_cast<size_t>(std::max(1, options.blocking_threads)));
  asio::co_spawn(io, Heartbeat(), asio::detached);
  for (int i = 0; i < std::max(1, options.threads); ++i) {
    threads.emplace_back([this] { io.run(); });
  }
}

Engine::Impl::~Impl() {
  // Runs still executing are abandoned, not cancelled: they stay "running"
  // in the store and the next Recover() continues them. Actions under way
  // are stopped first (an HTTP transfer, a query) and waited for, so that
  // nothing completes into an io_context that is gone.
  stopping = true;
  {
    MutexLock lock(attempts_mu);
    for (const auto& [id, abort] : attempts) abort();
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    {
      MutexLock lock(attempts_mu);
      if (attempts.empty() || std::chrono::steady_clock::now() >= deadline) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // Results still coming from other threads (HTTP, database workers) hold
  // this io_context's executors until they are delivered (Courier).
  while (Courier::Outstanding().load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  io.stop();
  work.reset();
  for (std::thread& t : threads) t.join();
  // Blocking calls still under way deliver into the stopped io_context (and
  // may start commits: first).
  blocking->join();
  // Store callbacks still in flight post into the (stopped) io_context and
  // may own a run's coroutine: let them finish before it is destroyed.
  commits.WaitIdle();
  // A run whose aborted step had not reached its ReleaseRun before the
  // threads stopped still carries this engine's lease: let every lease it
  // holds lapse now, so that another engine continues those runs at once
  // rather than after lease_ms.
  (void)options.store->RenewLeases(owner, 0);
  // Runs abandoned mid-flight: drop the table's references while their
  // strands' service exists, then destroy the suspended coroutines (which
  // still report to the table) before anything else goes.
  std::map<std::string, std::shared_ptr<RunState>> abandoned;
  {
    MutexLock lock(mu);
    abandoned.swap(active);
  }
  abandoned.clear();
  io_holder.reset();
}

asio::awaitable<void> Engine::Impl::Heartbeat() {
  // Keeps the leases of the runs this engine holds alive, so that no other
  // worker takes over a run that is still executing here.
  asio::steady_timer timer(io);
  const int64_t period = std::max<int64_t>(1000, options.lease_ms / 3);
  for (;;) {
    timer.expires_after(std::chrono::milliseconds(period));
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    auto renew = [this] { return options.store->RenewLeases(owner, clock->NowMillis() + options.lease_ms); };
    (void)co_await RunBlocking(*blocking, std::move(renew));
  }
}

Result<std::shared_ptr<const dsl::Workflow>> Engine::Impl::LoadWorkflow(const std::string& name, int64_t version) {
  {
    MutexLock lock(mu);
    auto it = workflows.find({name, version});
    if (it != workflows.end()) return it->second;
  }
  WEFT_ASSIGN_OR_RETURN(store::WorkflowRecord rec, options.store->GetWorkflow(name, version));
  dsl::LoadOptions load_options;
  load_options.default_name = rec.name;
  load_options.version = rec.version;
  Result<std::shared_ptr<const dsl::Workflow>> wf =
      dsl::LoadWorkflow(rec.source, rec.name + ".yaml (stored version " + std::to_string(rec.version) + ")",
                        *options.actions, nullptr, load_options);
  if (!wf.ok()) return wf.status();
  std::shared_ptr<const dsl::Workflow> shared = *wf;
  MutexLock lock(mu);
  workflows[{rec.name, rec.version}] = shared;
  if (version == 0) workflows[{name, 0}] = shared;
  return shared;
}

Result<std::shared_ptr<const dsl::Workflow>> Engine::Impl::LoadWorkflowByName(const std::string& name,
                                                                              int64_t version) {
  Result<std::shared_ptr<const dsl::Workflow>> wf = LoadWorkflow(name, version);
  if (wf.ok() || wf.status().code() != StatusCode::kNotFound || version != 0 || !options.resolve_workflow) return wf;
  WEFT_ASSIGN_OR_RETURN(std::shared_ptr<const dsl::Workflow> found, options.resolve_workflow(name));
  WEFT_ASSIGN_OR_RETURN(int64_t v, options.store->PutWorkflow(found->name, found->source, found->version));
  return LoadWorkflow(found->name, v);
}

std::shared_ptr<RunState> Engine::Impl::MakeRunState(const store::RunRecord& record, int depth) {
  auto run = std::make_shared<RunState>(asio::make_strand(io.get_executor()));
  run->engine = this;
  run->record = record;
  run->depth = depth;
  run->input = record.input;
  run->context = record.context.is_defined() ? record.context : Value::MakeObject();
  const Value chat = run->context.get("chat");
  const Value conversation = chat.get("conversation");
  run->conversation =
      conversation.is_string() && !conversation.as_string().empty() ? conversation.as_string() : record.id;
  return run;
}

bool Engine::Impl::Launch(const store::RunRecord& record, int depth, bool fresh, std::function<void(Status)> on_born) {
  std::shared_ptr<RunState> run = Reserve(record, depth, fresh);
  if (!run) return false;
  if (on_born) {
    run->unborn = record;
    run->on_born = std::move(on_born);
  }
  DriveReserved(run);
  return true;
}

std::shared_ptr<RunState> Engine::Impl::Reserve(const store::RunRecord& record, int depth, bool fresh) {
  std::shared_ptr<RunState> run = MakeRunState(record, depth);
  run->fresh = fresh;
  MutexLock lock(mu);
  if (active.count(record.id) != 0) return nullptr;
  active[record.id] = run;
  return run;
}

void Engine::Impl::DriveReserved(const std::shared_ptr<RunState>& run) {
  asio::co_spawn(run->strand, Drive(run), [this, id = run->record.id](const std::exception_ptr& e) {
    if (e) {
      // A bug: the executor turns every failure into a Status. The run stays
      // "running" in the store, so recovery can continue it.
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        fprintf(stderr, "weft: internal error driving run %s: %s\n", id.c_str(), x.what());
      } catch (...) {
        fprintf(stderr, "weft: internal error driving run %s\n", id.c_str());
      }
    }
    Finished(id);
  });
}

void Engine::Impl::Abandon(const std::string& run_id) {
  std::vector<std::shared_ptr<Settle>> wake;
  {
    MutexLock lock(mu);
    auto [from, to] = settle_waiters.equal_range(run_id);
    for (auto it = from; it != to; ++it) wake.push_back(std::move(it->second.second));
    settle_waiters.erase(from, to);
    active.erase(run_id);
    idle_cv.notify_all();
  }
  // Never stored: a waiter reads the store and learns so.
  for (auto& w : wake) w->signal.try_send(boost::system::error_code{});
}

void Engine::Impl::Finished(const std::string& run_id) {
  std::vector<std::shared_ptr<Settle>> wake;
  std::optional<store::RunRecord> last;
  {
    MutexLock lock(mu);
    auto [from, to] = settle_waiters.equal_range(run_id);
    if (from != to) {
      if (auto it = active.find(run_id); it != active.end()) last = it->second->record;
    }
    for (auto it = from; it != to; ++it) wake.push_back(std::move(it->second.second));
    settle_waiters.erase(from, to);
    active.erase(run_id);
    idle_cv.notify_all();
  }
  for (auto& w : wake) {
    // The record is written before the signal: the waiter reads it after.
    if (last) w->last = *last;
    w->settled.store(true, std::memory_order_release);
    w->signal.try_send(boost::system::error_code{});
  }
}

void Engine::Impl::RemoveSettleWaiter(const std::string& run_id, uint64_t ticket) {
  auto [from, to] = settle_waiters.equal_range(run_id);
  for (auto it = from; it != to; ++it) {
    if (it->second.first == ticket) {
      settle_waiters.erase(it);
      return;
    }
  }
}

uint64_t Engine::Impl::AddSettleWaiter(const std::string& run_id, std::shared_ptr<Settle> settle) {
  if (active.count(run_id) == 0) return 0;
  const uint64_t ticket = ++next_waiter;
  settle_waiters.emplace(run_id, std::make_pair(ticket, std::move(settle)));
  return ticket;
}

asio::awaitable<void> Engine::Impl::Drive(std::shared_ptr<RunState> run) {
  Result<std::shared_ptr<const dsl::Workflow>> wf = LoadWorkflow(run->record.workflow, run->record.version);
  if (!wf.ok()) {
    store::RunRecord failed = run->record;
    failed.status = store::RunStatus::kFailed;
    failed.error_code = std::string(StatusCodeName(wf.status().code()));
    failed.error = "loading workflow: " + wf.status().message();
    store::Commit commit;
    commit.updates.push_back({store::RunUpdate::Kind::kUpdate, failed.id, failed, {}, store::RunStatus::kRunning});
    (void)co_await CommitForRun(*run, std::move(commit));
    co_return;
  }
  run->workflow = *wf;
  // The history is the run's position (a run started just now has none).
  // Store calls from here on are made on the blocking pool, never on the
  // run's thread.
  Result<std::vector<store::StepRecord>> steps = std::vector<store::StepRecord>();
  if (!run->fresh) {
    auto read = [this, &run] { return options.store->GetSteps(run->record.id); };
    steps = co_await RunBlocking(*blocking, std::move(read));
  }
  if (!steps.ok()) co_return;  // left for recovery
  for (const store::StepRecord& s : *steps) {
    JournalEntry& j = run->journal[s.path];
    j.status = s.status;
    j.output = s.output;
    j.error_code = s.error_code;
    j.error = s.error;
    j.attempts = std::max(j.attempts, s.attempt);
    j.seq = s.seq;
  }
  co_await ExecuteRun(*this, run);
  // A run that ended or waits for a person gave up its lease in its last
  // commit; one waiting on a timer (or abandoned) gives it up here.
  const bool notify = IsTerminal(run->record.status) && !run->record.parent_run.empty();
  const bool release = !run->record.lease_owner.empty();
  if (notify || release) {
    auto after = [this, &run, notify, release] {
      if (notify) NotifyParent(run->record);
      if (release) (void)options.store->ReleaseRun(run->record.id, owner);
      return 0;
    };
    (void)co_await RunBlocking(*blocking, std::move(after));
  }
}

void Engine::Impl::NotifyParent(const store::RunRecord& child) {
  Result<store::RunRecord> parent = options.store->GetRun(child.parent_run);
  if (!parent.ok() || parent->status != store::RunStatus::kSuspended) return;
  if (parent->wait.get("kind") != Value("child")) return;
  if (parent->wait.get("data").get("run_id") != Value(child.id)) return;
  std::optional<ActionResult> result = ChildResult(child);
  if (!result) return;
  // Another caller may have resumed the parent first: nothing to do then.
  if (result->ok()) {
    (void)ResumeInternal(parent->id, result->output(), nullptr, false);
  } else {
    (void)ResumeInternal(parent->id, Value(), &result->status(), false);
  }
}

store::RunRecord Engine::Impl::NewRun(const dsl::Workflow& wf, std::string id, Value input, Value context,
                                      uint64_t seed) const {
  store::RunRecord rec;
  rec.id = std::move(id);
  rec.workflow = wf.name;
  rec.version = wf.version;
  rec.status = store::RunStatus::kRunning;
  rec.input = std::move(input);
  rec.context = std::move(context);
  rec.seed = seed;
  rec.created_ms = clock->NowMillis();
  TakeLease(rec);
  return rec;
}

void Engine::Impl::TakeLease(store::RunRecord& rec) const {
  if (!options.execute) {
    rec.lease_owner.clear();
    rec.lease_until_ms = 0;
    return;
  }
  rec.lease_owner = owner;
  rec.lease_until_ms = clock->NowMillis() + options.lease_ms;
  rec.lease_epoch += 1;
}

Status Engine::Impl::ResumeInternal(const std::string& run_id, Value payload, const Status* error, bool from_user) {
  WEFT_ASSIGN_OR_RETURN(store::RunRecord rec, options.store->GetRun(run_id));
  if (rec.status != store::RunStatus::kSuspended) {
    return FailedPreconditionError("run " + run_id + " is " + std::string(store::RunStatusName(rec.status)) +
                                   ", not suspended");
  }
  const Value& wait = rec.wait;
  const std::string kind = wait.get("kind").is_string() ? wait.get("kind").as_string() : "";
  if (from_user && kind == "child") {
    return FailedPreconditionError("run " + run_id + " waits for its child run " +
                                   ToJson(wait.get("data").get("run_id")) + "; resume that run instead");
  }
  store::StepRecord step;
  step.path = wait.get("path").is_string() ? wait.get("path").as_string() : "";
  step.task = wait.get("task").is_string() ? wait.get("task").as_string() : "";
  step.action = wait.get("action").is_string() ? wait.get("action").as_string() : "";
  step.attempt = wait.get("attempt").is_number() ? SaturatingInt(wait.get("attempt").as_number()) : 1;
  step.started_ms = wait.get("since_ms").is_number() ? SaturatingInt64(wait.get("since_ms").as_number()) : 0;
  step.ended_ms = clock->NowMillis();
  if (error != nullptr) {
    step.status = store::StepStatus::kFailed;
    step.error_code = std::string(StatusCodeName(error->code()));
    step.error = error->message();
  } else {
    if (payload.is_undefined()) payload = Value::MakeObject();
    if (from_user) {
      // The payload is the waiting task's result: hold it to the action's
      // output schema before anything is recorded.
      const dsl::ActionSpec* spec = options.actions->Find(step.action);
      if (spec != nullptr && spec->output_schema) {
        WEFT_RETURN_IF_ERROR(spec->output_schema->Validate(payload, "resume payload for '" + step.task + "'"));
      }
    }
    step.status = store::StepStatus::kCompleted;
    step.output = payload;
  }
  store::RunRecord updated = rec;
  updated.status = store::RunStatus::kRunning;
  updated.wait = Value();
  updated.wake_at_ms = 0;
  TakeLease(updated);  // this engine continues it (or a worker does)
  store::Commit commit;
  commit.updates.push_back({store::RunUpdate::Kind::kUpdate, run_id, updated, {step}, store::RunStatus::kSuspended});
  WEFT_RETURN_IF_ERROR(options.store->CommitSync(std::move(commit)));
  PublishStep(updated, step);
  PublishRun(updated);
  if (options.execute) Launch(updated);
  return Status::Ok();
}

namespace {

Event RunEvent(Event::Kind kind, const store::RunRecord& run, Value data) {
  Event e;
  e.kind = kind;
  e.run_id = run.id;
  e.workflow = run.workflow;
  e.data = std::move(data);
  return e;
}

}  // namespace

void Engine::Impl::PublishStep(const store::RunRecord& run, const store::StepRecord& step) {
  if (options.events != nullptr) options.events->Publish(RunEvent(Event::Kind::kStep, run, store::StepToJson(step)));
}

void Engine::Impl::Emit(const RunState& run, const store::StepRecord& step) {
  PublishStep(run.record, step);
  if (!options.on_step) return;
  StepEvent e;
  e.run_id = run.record.id;
  e.workflow = run.record.workflow;
  e.step = step;
  options.on_step(e);
}

void Engine::Impl::PublishRun(const store::RunRecord& run) {
  if (options.events == nullptr) return;
  options.events->Publish(RunEvent(Event::Kind::kRun, run, store::RunToJson(run)));
  // Waits that a person ends: the inbox's tasks.
  const Value kind = run.wait.get("kind");
  if (run.status == store::RunStatus::kSuspended &&
      (kind == Value("user_input") || kind == Value("approval") || kind == Value("handover"))) {
    options.events->Publish(RunEvent(Event::Kind::kTask, run, run.wait));
  }
}

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::Create(EngineOptions options) {
  if (options.store == nullptr) return InvalidArgumentError("EngineOptions.store is required");
  if (options.actions == nullptr) return InvalidArgumentError("EngineOptions.actions is required");
  return std::unique_ptr<Engine>(new Engine(std::make_unique<Impl>(std::move(options))));
}

Result<int64_t> Engine::Deploy(std::shared_ptr<const dsl::Workflow> workflow) {
  WEFT_ASSIGN_OR_RETURN(int64_t version,
                        impl_->options.store->PutWorkflow(workflow->name, workflow->source, workflow->version));
  MutexLock lock(impl_->mu);
  impl_->workflows.erase({workflow->name, 0});
  if (workflow->version == version) impl_->workflows[{workflow->name, version}] = std::move(workflow);
  return version;
}

Result<std::shared_ptr<const dsl::Workflow>> Engine::GetWorkflow(const std::string& name, int64_t version) {
  return impl_->LoadWorkflow(name, version);
}

Result<store::RunRecord> Engine::Impl::PrepareStart(const std::string& workflow, int64_t version, Value input,
                                                    const StartOptions& start) {
  WEFT_ASSIGN_OR_RETURN(std::shared_ptr<const dsl::Workflow> wf, LoadWorkflowByName(workflow, version));
  if (input.is_undefined()) input = Value::MakeObject();
  if (wf->input_schema) WEFT_RETURN_IF_ERROR(wf->input_schema->Validate(input, "input"));
  // The context is fixed when the run starts, so that replays see the same.
  Value context = Value::MakeObject();
  if (wf->context.is_defined()) {
    Value bindings = Value::MakeObject();
    bindings.set("input", input);
    // What the caller passes is $context here too, so that Hexabot's
    // `user_id: "=$context.user_id"` reads it.
    bindings.set("context", start.context.is_object() ? start.context : Value::MakeObject());
    expr::EvalOptions eval;
    eval.clock = clock;
    WEFT_ASSIGN_OR_RETURN(Value c, wf->context.Evaluate(dsl::Scope{input, bindings}, eval));
    if (c.is_object()) context = c;
  }
  if (start.context.is_object()) {
    for (const auto& m : start.context.members()) context.set(m.key, m.value);
  }
  std::string id = start.run_id.empty() ? NewSortableId(clock->NowMillis(), *random) : start.run_id;
  store::RunRecord rec = NewRun(*wf, std::move(id), input, std::move(context), random->Next());
  rec.trigger = start.trigger;
  rec.start_key = start.start_key;
  return rec;
}

Result<std::string> Engine::Start(const std::string& workflow, int64_t version, Value input,
                                  const StartOptions& options) {
  WEFT_ASSIGN_OR_RETURN(store::RunRecord rec, impl_->PrepareStart(workflow, version, std::move(input), options));
  // Executing here from before its commit: Drain and the claims see it
  // from the moment it can be listed.
  std::shared_ptr<RunState> run = impl_->options.execute ? impl_->Reserve(rec, 0, true) : nullptr;
  if (impl_->options.execute && !run) return Status(StatusCode::kAlreadyExists, "run '" + rec.id + "' already exists");
  store::Commit commit;
  commit.updates.push_back({store::RunUpdate::Kind::kCreate, rec.id, rec, {}, std::nullopt});
  if (Status stored = impl_->options.store->CommitSync(std::move(commit)); !stored.ok()) {
    if (run) impl_->Abandon(rec.id);
    return stored;
  }
  impl_->PublishRun(rec);
  if (run) impl_->DriveReserved(run);
  return rec.id;
}

asio::awaitable<Result<store::RunRecord>> Engine::AsyncStart(std::string workflow, int64_t version, Value input,
                                                             StartOptions options,
                                                             std::chrono::milliseconds settle_timeout) {
  Result<store::RunRecord> prepared = impl_->PrepareStart(workflow, version, std::move(input), options);
  if (!prepared.ok()) co_return prepared.status();
  store::RunRecord rec = std::move(prepared).value();
  auto executor = co_await asio::this_coro::executor;
  if (!impl_->options.execute) {
    // Stored for the workers; waiting for it reads the store.
    store::Commit commit;
    commit.updates.push_back({store::RunUpdate::Kind::kCreate, rec.id, rec, {}, std::nullopt});
    Status stored = co_await CommitAwait(*impl_->options.store, std::move(commit), executor, impl_->commits);
    if (!stored.ok()) co_return stored;
    impl_->PublishRun(rec);
    if (settle_timeout.count() <= 0) co_return rec;
    Result<store::RunRecord> settled = co_await impl_->AwaitSettled(rec.id, 0, nullptr, settle_timeout);
    if (!settled.ok() && settled.status().code() == StatusCode::kDeadlineExceeded) co_return rec;
    co_return settled;
  }
  // The waiter is in place before the run can finish: its end needs no
  // store read.
  std::shared_ptr<Engine::Impl::Settle> settle;
  if (settle_timeout.count() > 0) settle = std::make_shared<Engine::Impl::Settle>(executor);
  // The run is created by its first commit (RunState::unborn); this
  // coroutine resumes once that commit is durable, or failed (told once,
  // from whichever thread completed the commit).
  using BirthChannel = asio::experimental::concurrent_channel<void(boost::system::error_code, Status)>;
  auto birth = std::make_shared<BirthChannel>(executor, 1);
  auto on_born = [birth](Status s) { (void)birth->try_send(boost::system::error_code{}, std::move(s)); };
  if (!impl_->Launch(rec, 0, true, on_born)) {
    co_return Status(StatusCode::kAlreadyExists, "run '" + rec.id + "' already exists");
  }
  // The run cannot finish before its first commit, which takes far longer
  // than this; if it did, the waiter falls back to reading the store.
  uint64_t ticket = 0;
  if (settle) {
    MutexLock lock(impl_->mu);
    ticket = impl_->AddSettleWaiter(rec.id, settle);
  }
  Status born = co_await birth->async_receive(asio::use_awaitable);
  if (!born.ok()) {
    MutexLock lock(impl_->mu);
    impl_->RemoveSettleWaiter(rec.id, ticket);
    co_return born;
  }
  if (!settle) co_return rec;
  Result<store::RunRecord> settled = co_await impl_->AwaitSettled(rec.id, ticket, settle, settle_timeout);
  // Still executing: the run as started (it goes on).
  if (!settled.ok() && settled.status().code() == StatusCode::kDeadlineExceeded) co_return rec;
  co_return settled;
}

Status Engine::Resume(const std::string& run_id, Value payload) {
  return impl_->ResumeInternal(run_id, std::move(payload), nullptr, true);
}

Status Engine::ResumeWithError(const std::string& run_id, const Status& error) {
  return impl_->ResumeInternal(run_id, Value(), &error, true);
}

Status Engine::Retry(const std::string& run_id, int64_t version) {
  WEFT_ASSIGN_OR_RETURN(store::RunRecord rec, impl_->options.store->GetRun(run_id));
  if (rec.status != store::RunStatus::kFailed) {
    return FailedPreconditionError("run " + run_id + " is " + std::string(store::RunStatusName(rec.status)) +
                                   "; only a failed run can be retried");
  }
  if (version != 0) {
    WEFT_ASSIGN_OR_RETURN(std::shared_ptr<const dsl::Workflow> wf, impl_->LoadWorkflow(rec.workflow, version));
    rec.version = wf->version;
  }
  WEFT_ASSIGN_OR_RETURN(std::vector<store::StepRecord> steps, impl_->options.store->GetSteps(run_id));
  rec.retry_from_seq = steps.empty() ? 0 : steps.back().seq;
  rec.status = store::RunStatus::kRunning;
  impl_->TakeLease(rec);
  rec.error.clear();
  rec.error_code.clear();
  store::Commit commit;
  commit.updates.push_back({store::RunUpdate::Kind::kUpdate, run_id, rec, {}, store::RunStatus::kFailed});
  WEFT_RETURN_IF_ERROR(impl_->options.store->CommitSync(std::move(commit)));
  impl_->PublishRun(rec);
  if (impl_->options.execute) impl_->Launch(rec);
  return Status::Ok();
}

Status Engine::Cancel(const std::string& run_id) {
  // Children first, so that nothing keeps running below a cancelled parent.
  store::RunFilter children;
  children.parent_run = run_id;
  children.limit = 10000;
  if (auto kids = impl_->options.store->ListRuns(children); kids.ok()) {
    for (const store::RunRecord& kid : *kids) {
      if (!store::IsTerminal(kid.status)) (void)Cancel(kid.id);
    }
  }
  std::shared_ptr<RunState> live;
  {
    MutexLock lock(impl_->mu);
    auto it = impl_->active.find(run_id);
    if (it != impl_->active.end()) live = it->second;
  }
  if (live) {
    asio::post(live->strand, [live] { live->CancelAll(); });
    return Status::Ok();
  }
  WEFT_ASSIGN_OR_RETURN(store::RunRecord rec, impl_->options.store->GetRun(run_id));
  if (store::IsTerminal(rec.status)) {
    return FailedPreconditionError("run " + run_id + " is already " + std::string(store::RunStatusName(rec.status)));
  }
  store::RunRecord updated = rec;
  updated.status = store::RunStatus::kCancelled;
  updated.lease_owner.clear();
  updated.lease_until_ms = 0;
  updated.error_code = "CANCELLED";
  updated.error = "cancelled";
  updated.wait = Value();
  updated.wake_at_ms = 0;
  store::RunUpdate u{store::RunUpdate::Kind::kUpdate, run_id, updated, {}, rec.status};
  if (rec.status == store::RunStatus::kSuspended && rec.wait.get("path").is_string()) {
    store::StepRecord step;
    step.path = rec.wait.get("path").as_string();
    step.task = rec.wait.get("task").is_string() ? rec.wait.get("task").as_string() : "";
    step.action = rec.wait.get("action").is_string() ? rec.wait.get("action").as_string() : "";
    step.status = store::StepStatus::kCancelled;
    step.error_code = "CANCELLED";
    step.error = "the run was cancelled while waiting";
    step.started_ms = step.ended_ms = impl_->clock->NowMillis();
    u.steps.push_back(step);
  }
  const std::vector<store::StepRecord> cancelled_steps = u.steps;
  store::Commit commit;
  commit.updates.push_back(std::move(u));
  WEFT_RETURN_IF_ERROR(impl_->options.store->CommitSync(std::move(commit)));
  for (const store::StepRecord& step : cancelled_steps) impl_->PublishStep(updated, step);
  impl_->PublishRun(updated);
  if (!rec.parent_run.empty()) {
    updated.parent_run = rec.parent_run;
    impl_->NotifyParent(updated);
  }
  return Status::Ok();
}

Result<int> Engine::Recover() {
  if (!impl_->options.execute) return 0;  // the workers' job
  int picked = 0;
  const int64_t now = impl_->clock->NowMillis();
  WEFT_ASSIGN_OR_RETURN(std::vector<store::RunRecord> runs,
                        impl_->options.store->ClaimRuns(impl_->owner, now, impl_->options.lease_ms,
                                                        std::max(1, impl_->options.claim_batch)));
  for (const store::RunRecord& rec : runs) {
    if (rec.status == store::RunStatus::kSuspended) {
      // A timer that is due: its result says when it woke.
      Value payload = Value::MakeObject();
      payload.set("woke_at_ms", static_cast<double>(now));
      payload.set("scheduled_at_ms", static_cast<double>(rec.wake_at_ms));
      if (impl_->ResumeInternal(rec.id, payload, nullptr, false).ok()) ++picked;
      continue;
    }
    if (!rec.parent_run.empty()) {
      // A child runs inside its parent's execution unless the parent waits
      // for it (then it continues on its own and wakes the parent).
      Result<store::RunRecord> parent = impl_->options.store->GetRun(rec.parent_run);
      if (parent.ok() && parent->status == store::RunStatus::kRunning) {
        (void)impl_->options.store->ReleaseRun(rec.id, impl_->owner);
        continue;
      }
    }
    if (impl_->Launch(rec)) ++picked;
  }
  return picked;
}

Result<store::RunRecord> Engine::Wait(const std::string& run_id, std::chrono::milliseconds timeout) {
  {
    MutexLock lock(impl_->mu);
    if (!lock.WaitFor(impl_->idle_cv, timeout,
                      [&]() WEFT_REQUIRES(impl_->mu) { return impl_->active.count(run_id) == 0; })) {
      return DeadlineExceededError("run " + run_id + " is still executing");
    }
  }
  return impl_->options.store->GetRun(run_id);
}

asio::awaitable<Result<store::RunRecord>> Engine::AsyncWait(std::string run_id, std::chrono::milliseconds timeout) {
  auto settle = std::make_shared<Impl::Settle>(co_await asio::this_coro::executor);
  uint64_t ticket = 0;
  {
    MutexLock lock(impl_->mu);
    ticket = impl_->AddSettleWaiter(run_id, settle);
  }
  co_return co_await impl_->AwaitSettled(std::move(run_id), ticket, settle, timeout);
}

asio::awaitable<Result<store::RunRecord>> Engine::Impl::AwaitSettled(std::string run_id, uint64_t ticket,
                                                                     std::shared_ptr<Settle> settle,
                                                                     std::chrono::milliseconds timeout) {
  auto read = [this, &run_id] { return options.store->GetRun(run_id); };
  if (ticket == 0 && options.execute) co_return co_await RunBlocking(*blocking, read);  // not executing here
  if (ticket == 0) {
    // Executed by another process: its record tells when it settles.
    asio::steady_timer timer(co_await asio::this_coro::executor);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (auto pause = std::chrono::milliseconds(2);; pause = std::min(pause * 2, std::chrono::milliseconds(100))) {
      Result<store::RunRecord> rec = co_await RunBlocking(*blocking, read);
      if (!rec.ok() || rec->status != store::RunStatus::kRunning) co_return rec;
      if (std::chrono::steady_clock::now() + pause > deadline) {
        co_return DeadlineExceededError("run " + run_id + " is still executing");
      }
      timer.expires_after(pause);
      boost::system::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }
  // Settled while this coroutine was on its way here (a run that ends in
  // its first commit, as most webhook runs do): no timer to arm.
  if (!settle->settled.load(std::memory_order_acquire)) {
    asio::steady_timer timer(co_await asio::this_coro::executor, timeout);
    // A parallel group rather than awaitable operators: the loser is
    // cancelled with an error code, not an exception thrown on every
    // settled run.
    auto [order, signal_ec, timer_ec] =
        co_await asio::experimental::make_parallel_group(settle->signal.async_receive(asio::deferred),
                                                         timer.async_wait(asio::deferred))
            .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
    (void)signal_ec;
    (void)timer_ec;
    if (order[0] == 1) {
      MutexLock lock(mu);
      RemoveSettleWaiter(run_id, ticket);
      co_return DeadlineExceededError("run " + run_id + " is still executing");
    }
  }
  if (settle->last) co_return std::move(*settle->last);
  co_return co_await RunBlocking(*blocking, read);
}

asio::any_io_executor Engine::executor() { return impl_->io.get_executor(); }

void Engine::Drain() {
  MutexLock lock(impl_->mu);
  lock.Wait(impl_->idle_cv, [&]() WEFT_REQUIRES(impl_->mu) { return impl_->active.empty(); });
}

}  // namespace weft::engine
