// The flow blocks: conditional, parallel branches (wait_all, wait_any) and
// loops (for_each, while; concurrent iterations), each on the run's strand.
#include "executor_internal.h"

namespace weft::engine::internal {

asio::awaitable<Flow> Executor::RunConditional(const FlowNode& node, Frame& frame) {
  for (const FlowNode::Branch& branch : node.branches) {
    if (branch.condition) {
      Result<Value> v = Eval(*branch.condition, frame);
      if (!v.ok()) {
        co_return Flow::Fail(v.status().WithContext("condition at " + branch.location.ToString()));
      }
      if (!IsTruthy(*v)) continue;
    }
    co_return co_await RunList(branch.steps, frame);
  }
  co_return Flow::Ok();
}

asio::awaitable<void> Executor::RunChildren(size_t count, size_t window, const Frame& base, const ChildBody& body,
                                            const std::function<bool(size_t, std::vector<Child>&)>& on_done,
                                            std::vector<Child>& children) {
  children.resize(count);
  using Channel = asio::experimental::channel<void(boost::system::error_code, size_t)>;
  auto channel = std::make_shared<Channel>(run_.strand, count);
  size_t launched = 0;
  size_t finished = 0;
  bool stop = false;
  auto launch = [&](size_t i) {
    Child& c = children[i];
    c.frame = base;
    c.frame.log = &c.writes;
    c.scope.parent = base.scope;
    c.frame.scope = &c.scope;
    c.frame.dirty = true;
    asio::co_spawn(
        run_.strand, [&body, &c, i]() -> asio::awaitable<Flow> { co_return co_await body(i, c.frame); },
        [channel, &c, i](const std::exception_ptr& e, Flow f) {
          c.flow = e ? Flow::Fail(InternalError("a branch threw")) : std::move(f);
          channel->try_send(boost::system::error_code{}, i);
        });
  };
  while (launched < count && launched < window) launch(launched++);
  while (finished < launched) {
    size_t i = co_await channel->async_receive(asio::use_awaitable);
    ++finished;
    if (!stop && !on_done(i, children)) {
      stop = true;
      for (size_t j = 0; j < launched; ++j) {
        if (j != i) CancelScopeNow(&children[j].scope);
      }
    }
    if (!stop && launched < count) launch(launched++);
  }
}

void Executor::CancelScopeNow(CancelScope* scope) {
  scope->cancelled = true;
  std::vector<InFlight*> hit;
  for (InFlight* f : run_.in_flight) {
    if (f->scope->Within(scope)) hit.push_back(f);
  }
  for (InFlight* f : hit) f->cancel();
}

asio::awaitable<Flow> Executor::RunParallel(const FlowNode& node, Frame& frame) {
  const size_t n = node.children.size();
  ChildBody body = [&](size_t i, Frame& f) -> asio::awaitable<Flow> {
    co_return co_await RunNode(node.children[i], f);
  };
  std::vector<Child> children;
  if (node.strategy == FlowNode::Strategy::kWaitAll) {
    std::optional<size_t> failed;
    co_await RunChildren(
        n, n, frame, body,
        [&](size_t i, std::vector<Child>& c) {
          if (c[i].flow.ok()) return true;
          failed = i;
          return false;
        },
        children);
    if (failed) co_return children[*failed].flow;
    for (Child& c : children) {
      for (const Write& w : c.writes) frame.Apply(w);
    }
    co_return Flow::Ok();
  }
  // wait_any: the first branch to succeed wins; the others are cancelled
  // and their writes dropped. The winner is recorded so that a replay
  // follows it alone.
  const std::string marker = frame.prefix + node.path + ":parallel" + frame.suffix;
  if (auto it = run_.journal.find(marker); it != run_.journal.end() && it->second.output.is_number()) {
    size_t winner = SaturatingSize(it->second.output.as_number());
    if (winner < n) {
      Flow f = co_await RunNode(node.children[winner], frame);
      co_return f;
    }
  }
  std::optional<size_t> winner;
  co_await RunChildren(
      n, n, frame, body,
      [&](size_t i, std::vector<Child>& c) {
        if (!c[i].flow.ok()) return true;
        winner = i;
        return false;
      },
      children);
  if (!winner) {
    // Every branch failed: report the first failure in branch order.
    for (Child& c : children) {
      if (c.flow.kind != Flow::Kind::kCancel) co_return c.flow;
    }
    co_return children.empty() ? Flow::Ok() : children.front().flow;
  }
  StepRecord rec;
  rec.path = marker;
  rec.task = node.path;
  rec.action = "parallel";
  rec.status = StepStatus::kCompleted;
  rec.output = Value(static_cast<double>(*winner));
  rec.started_ms = rec.ended_ms = engine_.clock->NowMillis();
  if (Status s = co_await Record(rec); !s.ok()) co_return Flow::Abandon(s);
  for (const Write& w : children[*winner].writes) frame.Apply(w);
  co_return Flow::Ok();
}

asio::awaitable<Flow> Executor::RunLoop(const FlowNode& node, Frame& frame) {
  Value items;
  if (node.loop_type == FlowNode::LoopType::kForEach) {
    Result<Value> v = Eval(*node.in, frame);
    if (!v.ok()) co_return Flow::Fail(v.status().WithContext("loop '" + node.name + "' for_each.in"));
    if (v->is_undefined()) {
      items = Value::MakeArray();
    } else if (v->is_array()) {
      items = *v;
    } else {
      items = Value::MakeArray({*v});
    }
  }
  // A loop without its own accumulator passes the enclosing one on.
  Value acc = frame.accumulator;
  if (node.accumulate) {
    Result<Value> init = EvalTemplate(node.accumulate->initial, frame);
    if (!init.ok()) co_return Flow::Fail(init.status().WithContext("loop '" + node.name + "' accumulate.initial"));
    acc = *init;
  }
  const Value saved_iteration = frame.iteration;
  const Value saved_acc = frame.accumulator;
  const std::string saved_item = frame.item_name;
  const std::string saved_suffix = frame.suffix;

  auto iteration_value = [&](int64_t i) {
    Value it = Value::MakeObject();
    if (items.is_array()) it.set("item", items.as_array()[static_cast<size_t>(i)]);
    it.set("index", static_cast<double>(i));
    return it;
  };
  // After iteration `i` (its writes applied to `f`): fold it into the
  // accumulator and ask `until`, both seeing the iteration's outputs and
  // the accumulator from before the fold (Hexabot's loop executor: a
  // loop summing [2, 4, 6] until $accumulator >= 6 ends at 12). Returns
  // an error, or whether to stop.
  auto after = [&](int64_t i, Frame& f, bool& stop) -> Status {
    f.SetLoopVars(iteration_value(i), acc);
    Value next = acc;
    if (node.accumulate) {
      WEFT_ASSIGN_OR_RETURN(next, Eval(*node.accumulate->merge, f));
    }
    if (node.until) {
      WEFT_ASSIGN_OR_RETURN(Value u, Eval(*node.until, f));
      stop = IsTruthy(u);
    }
    acc = std::move(next);
    return Status::Ok();
  };
  auto restore = [&]() {
    frame.iteration = saved_iteration;
    // After a loop with an accumulator, $accumulator is its final value
    // (as in Hexabot); otherwise what it was before the loop.
    frame.accumulator = node.accumulate ? acc : saved_acc;
    frame.item_name = saved_item;
    frame.suffix = saved_suffix;
    frame.dirty = true;
  };

  const int64_t limit = engine_.options.max_loop_iterations;
  Flow result = Flow::Ok();
  if (!node.ConcurrentIterations()) {
    for (int64_t i = 0;; ++i) {
      if (items.is_array() && static_cast<size_t>(i) >= items.size()) break;
      if (i >= limit) {
        result = Flow::Fail(
            ResourceExhaustedError("loop '" + node.name + "' ran more than " + std::to_string(limit) + " iterations"));
        break;
      }
      frame.SetLoopVars(iteration_value(i), acc);
      frame.item_name = node.item_name;
      if (node.loop_type == FlowNode::LoopType::kWhile) {
        Result<Value> w = Eval(*node.while_cond, frame);
        if (!w.ok()) {
          result = Flow::Fail(w.status().WithContext("loop '" + node.name + "' while"));
          break;
        }
        if (!IsTruthy(*w)) break;
      }
      frame.suffix = IterationSuffix(saved_suffix, i);
      Flow f = co_await RunList(node.children, frame);
      if (!f.ok()) {
        result = f;
        break;
      }
      bool stop = false;
      if (Status s = after(i, frame, stop); !s.ok()) {
        result = Flow::Fail(s.WithContext("loop '" + node.name + "'"));
        break;
      }
      if (stop) break;
    }
  } else {
    const size_t n = items.size();
    ChildBody body = [&](size_t i, Frame& f) -> asio::awaitable<Flow> {
      f.SetLoopVars(iteration_value(static_cast<int64_t>(i)), acc);
      f.item_name = node.item_name;
      f.suffix = IterationSuffix(saved_suffix, static_cast<int64_t>(i));
      co_return co_await RunList(node.children, f);
    };
    // Iterations finish in any order; they are folded in index order.
    // (Such a loop has no `until`: nothing stops it early but a failure.)
    size_t next = 0;
    std::optional<Flow> failure;
    std::vector<bool> done(n, false);
    std::vector<Child> children;
    const Frame base = frame;
    co_await RunChildren(
        n, static_cast<size_t>(node.max_concurrency), base, body,
        [&](size_t i, std::vector<Child>& c) {
          done[i] = true;
          if (!c[i].flow.ok()) {
            if (!failure) failure = c[i].flow;
            return false;
          }
          while (next < n && done[next] && !failure) {
            for (const Write& w : c[next].writes) frame.Apply(w);
            bool stop = false;
            Status s = after(static_cast<int64_t>(next), frame, stop);
            ++next;
            if (!s.ok()) {
              failure = Flow::Fail(s.WithContext("loop '" + node.name + "'"));
              return false;
            }
          }
          return true;
        },
        children);
    if (failure) result = *failure;
  }
  restore();
  if (!result.ok()) co_return result;
  // $output.<name> is {<as>: accumulator}, for a named loop with one.
  if (node.named && node.accumulate) {
    Value out = Value::MakeObject();
    out.set(node.accumulate->as, acc);
    frame.Apply({node.name, out, false});
  }
  co_return Flow::Ok();
}

}  // namespace weft::engine::internal
