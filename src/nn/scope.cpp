// Scope, init and apply: the machinery behind every module call.
//
// One Frame holds the state of one init/apply: the working collections (persistent Trees, so a
// write copies only its path), the mutability filter, the rng streams and their counters. Each
// module call gets its own Scope over the frame, at the module's path.
#include "jute/nn/scope.hpp"

#include <algorithm>
#include <iomanip>
#include <sstream>

#include "jute/nn/module.hpp"
#include "jute/random.hpp"

namespace jute::nn {

namespace detail {

struct Frame {
  std::map<std::string, Tree, std::less<>> collections;
  Mutable mutable_;
  Rngs rngs;
  bool initializing = false;
  // Flax keeps one counter per (scope path, stream); a module called again continues its counts.
  std::map<std::pair<std::vector<std::string>, std::string>, std::uint64_t> rng_counters;
  bool tabulate = false;
  bool shape_only = false;  // init_shapes: parameters and variables are shape-only arrays
  struct Call {
    std::vector<std::string> path;
    std::string type;
    std::string output;
  };
  std::vector<Call> calls;
};

namespace {

bool is_key(const Array& a) { return a.valid() && a.dtype() == uint32 && a.shape() == Shape{2}; }

std::string join_path(const std::vector<std::string>& path, std::string_view name = {}) {
  std::string s;
  for (const auto& p : path) {
    if (!s.empty()) s += '/';
    s += p;
  }
  if (!name.empty()) {
    if (!s.empty()) s += '/';
    s += name;
  }
  return s;
}

std::string quoted_list(const std::vector<std::string>& items) {
  std::string s = "[";
  for (std::size_t i = 0; i < items.size(); ++i) s += (i ? ", \"" : "\"") + items[i] + "\"";
  return s + "]";
}

void check_rngs(const Rngs& rngs, const char* op) {
  for (const auto& [stream, key] : rngs)
    if (!is_key(key))
      throw InvalidRngError(std::string("[") + op + "] The rng for stream \"" + stream +
                            "\" must be a key (uint32 of shape (2,)), got " +
                            (key.valid() ? key.type_string() : std::string("a null Array")) +
                            "; make one with jute::random::key(seed).");
}

}  // namespace

Rngs rngs_from_key(const Array& key) {
  if (!is_key(key))
    throw InvalidRngError(
        "[init] The rng must be a key (uint32 of shape (2,)) or a map of "
        "stream names to keys, got " +
        (key.valid() ? key.type_string() : std::string("a null Array")) +
        "; make one with jute::random::key(seed).");
  return Rngs{{"params", key}};
}

std::shared_ptr<Frame> make_init_frame(const Rngs& rngs, bool tabulate, bool shape_only) {
  check_rngs(rngs, "init");
  auto frame = std::make_shared<Frame>();
  frame->mutable_ = Mutable::all_but({"intermediates"});
  frame->rngs = rngs;
  frame->initializing = true;
  frame->tabulate = tabulate;
  frame->shape_only = shape_only;
  return frame;
}

std::shared_ptr<Frame> make_apply_frame(const Variables& variables, const ApplyOptions& options) {
  check_rngs(options.rngs, "apply");
  auto frame = std::make_shared<Frame>();
  for (const auto& [name, value] : variables) {
    if (!value.is_tree())
      throw InvalidVariablesError(
          "[apply] Variables must map collection names to Trees, but \"" + name +
          "\" is an Array " + value.array().type_string() +
          "; pass the Variables returned by init (e.g. {\"params\": params}).");
    frame->collections.emplace(name, value.tree());
  }
  auto params = frame->collections.find("params");
  if (params != frame->collections.end() && params->second.contains("params"))
    throw InvalidVariablesError(
        "[apply] The variables have an extra \"params\" layer ({\"params\": {\"params\": "
        "...}}); pass {\"params\": params}, not {\"params\": variables}.");
  frame->mutable_ = options.mutable_;
  frame->rngs = options.rngs;
  return frame;
}

Variables frame_variables(const Frame& frame) {
  Variables v;
  for (const auto& [name, tree] : frame.collections) v = v.with_collection(name, tree);
  return v;
}

Variables frame_updated(const Frame& frame) {
  Variables v;
  for (const auto& [name, tree] : frame.collections)
    if (frame.mutable_.contains(name)) v = v.with_collection(name, tree);
  return v;
}

std::string frame_table(const Frame& frame, const std::string& root_type,
                        const std::string& root_output) {
  // Rows: the root, then each distinct module path in first-call order.
  std::vector<Frame::Call> rows{{{}, root_type, root_output}};
  for (const auto& c : frame.calls) {
    bool seen =
        std::any_of(rows.begin(), rows.end(), [&](const auto& r) { return r.path == c.path; });
    if (!seen) rows.push_back(c);
  }
  std::vector<std::string> collections;
  for (const auto& [name, tree] : frame.collections) collections.push_back(name);

  // A module's own variables: leaves under its path that are not under a child module's path.
  auto owned = [&](const std::vector<std::string>& path, const Tree& col) {
    std::int64_t count = 0;
    std::size_t bytes = 0;
    for (const auto& [p, leaf] : flatten(col)) {
      std::string prefix = join_path(path);
      if (!prefix.empty() && p.rfind(prefix + "/", 0) != 0) continue;
      bool in_child = false;
      for (const auto& r : rows) {
        if (r.path.size() <= path.size()) continue;
        if (!std::equal(path.begin(), path.end(), r.path.begin())) continue;
        if (p.rfind(join_path(r.path) + "/", 0) == 0) in_child = true;
      }
      if (in_child) continue;
      count += leaf.size();
      bytes += leaf.nbytes();
    }
    return std::pair<std::int64_t, std::size_t>{count, bytes};
  };
  auto fmt = [](std::int64_t count, std::size_t bytes) {
    if (count == 0) return std::string();
    return std::to_string(count) + " (" + std::to_string(bytes) + " B)";
  };

  std::vector<std::vector<std::string>> cells;
  cells.push_back({"path", "module", "outputs"});
  for (const auto& c : collections) cells[0].push_back(c);
  for (const auto& r : rows) {
    std::vector<std::string> line{join_path(r.path), r.type, r.output};
    for (const auto& c : collections) {
      auto [n, b] = owned(r.path, frame.collections.at(c));
      line.push_back(fmt(n, b));
    }
    cells.push_back(std::move(line));
  }
  std::vector<std::string> total{"", "", "Total"};
  std::int64_t all_n = 0;
  std::size_t all_b = 0;
  for (const auto& c : collections) {
    const Tree& t = frame.collections.at(c);
    all_n += num_params(t);
    all_b += nbytes(t);
    total.push_back(fmt(num_params(t), nbytes(t)));
  }
  cells.push_back(std::move(total));

  std::vector<std::size_t> width(cells[0].size(), 0);
  for (const auto& line : cells)
    for (std::size_t i = 0; i < line.size(); ++i) width[i] = std::max(width[i], line[i].size());
  std::ostringstream os;
  auto rule = [&] {
    for (std::size_t i = 0; i < width.size(); ++i)
      os << (i ? "-+-" : "") << std::string(width[i], '-');
    os << "\n";
  };
  for (std::size_t l = 0; l < cells.size(); ++l) {
    if (l == 1 || l + 1 == cells.size()) rule();
    for (std::size_t i = 0; i < cells[l].size(); ++i)
      os << (i ? " | " : "") << std::left << std::setw(static_cast<int>(width[i])) << cells[l][i];
    os << "\n";
  }
  os << "\nTotal Parameters: " << fmt(all_n, all_b) << "\n";
  return os.str();
}

}  // namespace detail

// ---- Mutable
// -------------------------------------------------------------------------------------

Mutable::Mutable(bool all) : deny_(all) {}
Mutable::Mutable(std::initializer_list<std::string> names) : names_(names.begin(), names.end()) {}
Mutable::Mutable(std::vector<std::string> names) : names_(names.begin(), names.end()) {}
Mutable Mutable::all_but(std::vector<std::string> names) {
  return Mutable(true, std::set<std::string>(names.begin(), names.end()));
}

bool Mutable::contains(std::string_view collection) const {
  bool listed = names_.count(std::string(collection)) > 0;
  return deny_ ? !listed : listed;
}

namespace {
std::set<std::string> set_union(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::set<std::string> r = a;
  r.insert(b.begin(), b.end());
  return r;
}
std::set<std::string> set_inter(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::set<std::string> r;
  for (const auto& x : a)
    if (b.count(x)) r.insert(x);
  return r;
}
std::set<std::string> set_minus(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::set<std::string> r;
  for (const auto& x : a)
    if (!b.count(x)) r.insert(x);
  return r;
}
}  // namespace

// The algebra of flax.core.scope's filters, with allow-lists and deny-lists.
Mutable operator|(const Mutable& a, const Mutable& b) {
  if (a.deny_ && b.deny_) return Mutable(true, set_inter(a.names_, b.names_));
  if (a.deny_) return Mutable(true, set_minus(a.names_, b.names_));
  if (b.deny_) return Mutable(true, set_minus(b.names_, a.names_));
  return Mutable(false, set_union(a.names_, b.names_));
}
Mutable operator&(const Mutable& a, const Mutable& b) {
  if (a.deny_ && b.deny_) return Mutable(true, set_union(a.names_, b.names_));
  if (a.deny_) return Mutable(false, set_minus(b.names_, a.names_));
  if (b.deny_) return Mutable(false, set_minus(a.names_, b.names_));
  return Mutable(false, set_inter(a.names_, b.names_));
}
Mutable operator-(const Mutable& a, const Mutable& b) {
  // a - b = a & not(b)
  Mutable not_b(!b.deny_, b.names_);
  return a & not_b;
}

std::string Mutable::to_string() const {
  if (is_all()) return "all";
  if (is_none()) return "none";
  std::string s = "{";
  bool first = true;
  for (const auto& n : names_) {
    s += (first ? "" : ", ") + n;
    first = false;
  }
  s += "}";
  return deny_ ? "all but " + s : s;
}

// ---- Scope
// ---------------------------------------------------------------------------------------

Scope::Scope(std::shared_ptr<detail::Frame> frame, std::vector<std::string> path)
    : frame_(std::move(frame)), path_(std::move(path)) {}
Scope::Scope(Scope&&) noexcept = default;
Scope::~Scope() = default;

std::string Scope::path_text() const {
  std::string text(1, '/');  // appended, not "/" + ...: GCC 12 warns falsely (-Wrestrict) on that
  text += detail::join_path(path_);
  return text;
}

bool Scope::is_mutable_collection(std::string_view collection) const {
  return frame_->mutable_.contains(collection);
}
bool Scope::is_initializing() const { return frame_->initializing; }
bool Scope::has_rng(std::string_view stream) const {
  return frame_->rngs.count(std::string(stream)) > 0;
}
bool Scope::tabulating() const { return frame_->tabulate; }

namespace {
const Tree* find_collection(const detail::Frame& f, std::string_view collection) {
  auto it = f.collections.find(collection);
  return it == f.collections.end() ? nullptr : &it->second;
}
}  // namespace

bool Scope::has_variable(std::string_view collection, std::string_view name) const {
  const Tree* col = find_collection(*frame_, collection);
  if (!col) return false;
  const TreeValue* v = col->find(detail::join_path(path_, name));
  return v != nullptr;
}

Array Scope::get_variable(std::string_view collection, std::string_view name) const {
  const Tree* col = find_collection(*frame_, collection);
  std::string where = path_text();
  if (!col || col->empty())
    throw ScopeCollectionNotFound("[apply] Tried to access \"" + std::string(name) +
                                  "\" from collection \"" + std::string(collection) + "\" in \"" +
                                  where + "\" but the collection is empty; pass it to apply.");
  const TreeValue* v = col->find(detail::join_path(path_, name));
  if (!v || !v->is_array())
    throw ScopeVariableNotFoundError("[apply] No variable named \"" + std::string(name) +
                                     "\" for collection \"" + std::string(collection) +
                                     "\" exists in \"" + where + "\".");
  return v->array();
}

void Scope::put_variable(std::string_view collection, std::string_view name, Array value) {
  if (!is_mutable_collection(collection))
    throw ModifyScopeVariableError("[apply] Cannot update variable \"" + std::string(name) +
                                   "\" in \"" + path_text() + "\" because collection \"" +
                                   std::string(collection) + "\" is immutable; pass mutable = {\"" +
                                   std::string(collection) + "\"} to apply.");
  auto& col = frame_->collections[std::string(collection)];
  col = col.set(detail::join_path(path_, name), std::move(value));
}

namespace {
void declare(std::set<std::pair<std::string, std::string>>& declared, std::set<std::string>& names,
             const std::string& collection, std::string_view name, const std::string& where,
             const char* what) {
  // One namespace per scope and collection; a child module's name conflicts with everything.
  bool clash =
      declared.count({collection, std::string(name)}) || declared.count({"", std::string(name)});
  if (clash)
    throw NameInUseError(std::string("[") + what + "] Could not create " + what + " \"" +
                         std::string(name) + "\" in \"" + where +
                         "\": the name is already in use in this module; give it another name.");
  declared.insert({collection, std::string(name)});
  names.insert(std::string(name));
}
}  // namespace

Array Scope::param(std::string_view name, const Initializer& init, const Shape& shape,
                   DType dtype) {
  declare(declared_, variable_names_, "params", name, path_text(), "param");
  const std::string full = detail::join_path(path_, name);
  const Tree* col = find_collection(*frame_, "params");
  if (const TreeValue* v = col ? col->find(full) : nullptr) {
    if (!v->is_array())
      throw ScopeParamShapeError("[param] \"params/" + full + "\" is a sub-tree, not a parameter.");
    if (v->array().shape() != shape)
      throw ScopeParamShapeError(
          "[param] For parameter \"" + std::string(name) + "\" in \"" + path_text() +
          "\", the module expects shape " + jute::detail::shape_str(shape) +
          " but the given variables hold shape " + jute::detail::shape_str(v->array().shape()) +
          " at params/" + full + "; re-run init or fix the checkpoint.");
    return v->array();
  }
  if (!is_mutable_collection("params")) {
    if (!col || col->empty()) {
      std::vector<std::string> top;
      for (const auto& [k, t] : frame_->collections) top.push_back(k);
      throw ScopeCollectionNotFound(
          "[apply] Tried to access \"" + std::string(name) + "\" from collection \"params\" in \"" +
          path_text() + "\" but the collection is empty; the variables have collections " +
          detail::quoted_list(top) + " — pass {\"params\": params}, as returned by init.");
    }
    std::string parent = detail::join_path(path_);
    const TreeValue* here = parent.empty() ? nullptr : col->find(parent);
    std::vector<std::string> keys =
        parent.empty()
            ? col->keys()
            : (here && here->is_tree() ? here->tree().keys() : std::vector<std::string>{});
    throw ScopeParamNotFoundError("[apply] Could not find parameter named \"" + std::string(name) +
                                  "\" in scope \"" + path_text() + "\" (params/" + full +
                                  "); the keys there are " + detail::quoted_list(keys) + ".");
  }
  Array key = make_rng("params");  // drawn in shape-only mode too: the counts stay Flax's
  Array value = frame_->shape_only ? abstract_array(shape, dtype) : init(key, shape, dtype);
  if (value.shape() != shape)
    throw ScopeParamShapeError("[param] The initializer of \"params/" + full +
                               "\" returned shape " + jute::detail::shape_str(value.shape()) +
                               " but the module asked for " + jute::detail::shape_str(shape) +
                               "; fix the initializer.");
  auto& c = frame_->collections["params"];
  c = c.set(full, value);
  return value;
}

VariableRef Scope::variable(std::string_view collection, std::string_view name,
                            const std::function<Array()>& init) {
  declare(declared_, variable_names_, std::string(collection), name, path_text(), "variable");
  if (!has_variable(collection, name)) {
    if (!is_mutable_collection(collection)) (void)get_variable(collection, name);  // throws
    Array value = init();
    if (frame_->shape_only && !value.is_abstract())
      value = abstract_array(value.shape(), value.dtype());
    put_variable(collection, name, std::move(value));
  }
  return VariableRef(this, std::string(collection), std::string(name));
}

Array VariableRef::value() const { return scope_->get_variable(collection_, name_); }
void VariableRef::set(Array value) const {
  scope_->put_variable(collection_, name_, std::move(value));
}
bool VariableRef::is_mutable() const { return scope_->is_mutable_collection(collection_); }

Array Scope::make_rng(std::string_view stream) {
  auto it = frame_->rngs.find(std::string(stream));
  if (it == frame_->rngs.end()) {
    std::vector<std::string> have;
    for (const auto& [k, v] : frame_->rngs) have.push_back(k);
    throw InvalidRngError("[make_rng] \"" + path_text() + "\" needs PRNG for \"" +
                          std::string(stream) + "\" but the given rngs have " +
                          detail::quoted_list(have) + "; pass rngs = {{\"" + std::string(stream) +
                          "\", key}} to init/apply.");
  }
  auto& counter = frame_->rng_counters[{path_, std::string(stream)}];
  ++counter;
  return random::fold_in_path(it->second, path_, counter);
}

bool Scope::sow(std::string_view collection, std::string_view name, const Array& value) {
  if (!is_mutable_collection(collection)) return false;
  auto& col = frame_->collections[std::string(collection)];
  const std::string full = detail::join_path(path_, name);
  const TreeValue* existing = col.find(full);
  Tree tuple = existing && existing->is_tree() ? existing->tree() : Tree();
  tuple = tuple.set(std::to_string(tuple.size()), value);
  col = col.set(full, tuple);
  return true;
}

std::string Scope::auto_name(const char* type) {
  int& cursor = type_cursors_[type];
  return std::string(type) + "_" + std::to_string(cursor++);
}

Scope Scope::make_child(std::string name, const char* type) {
  auto it = child_types_.find(name);
  if (it != child_types_.end()) {
    if (it->second != type)
      throw NameInUseError("[child] Could not create submodule \"" + name + "\" of type " + type +
                           " in \"" + path_text() + "\": the name is already used by a " +
                           it->second + "; give it another name.");
  } else {
    if (variable_names_.count(name))
      throw NameInUseError("[child] Could not create submodule \"" + name + "\" in \"" +
                           path_text() + "\": a variable of that name exists in this module; " +
                           "give it another name.");
    child_types_.emplace(name, type);
    declared_.insert({"", name});
  }
  std::vector<std::string> path = path_;
  path.push_back(std::move(name));
  return Scope(frame_, std::move(path));
}

void Scope::note_call(const Scope& sub, const char* type, std::string output_description) {
  frame_->calls.push_back({sub.path_, type, std::move(output_description)});
}

std::string describe_value(const Array& a) { return a.type_string(); }
std::string describe_value(const Tree& t) {
  return "Tree(" + std::to_string(t.num_leaves()) + " leaves)";
}

}  // namespace jute::nn
