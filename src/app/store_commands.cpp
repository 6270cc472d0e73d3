// `sluice keys`, `sluice projects` and `sluice usage`: the key store and the ledger from the
// command line, on the same stores as a running gateway — the SQLite file, or PostgreSQL with
// --config naming it (gateways see changes within their key_poll interval). Output is the admin API's JSON, so scripts can use either.
#include <chrono>
#include <cstdio>
#include <iostream>

#include <boost/json/serialize.hpp>

#include "app/commands.hpp"
#include "common/clock.hpp"
#include "config/config.hpp"
#include "keys/key_store.hpp"
#include "server/admin_json.hpp"
#include "server/stores.hpp"

namespace sluice::app {

namespace {

void add_store_options(CLI::App* cmd, StoreOptions& o) {
  cmd->add_option("--config", o.config_path, "YAML config file whose data_dir / ledger.path to use");
  cmd->add_option("--data-dir", o.data_dir, "Data directory (default ./sluice-data, or SLUICE_DATA_DIR)");
}

void add_limit_options(CLI::App* cmd, LimitOptions& o) {
  cmd->add_option("--rpm", o.limits.rpm, "Requests per minute");
  cmd->add_option("--tpm", o.limits.tpm, "Tokens per minute (input + output, cache included)");
  cmd->add_option("--concurrency", o.limits.concurrency, "Requests in flight");
  cmd->add_option("--budget-usd-day", o.limits.budget_usd_day, "Spend per UTC day, in USD");
  cmd->add_option("--budget-usd-month", o.limits.budget_usd_month, "Spend per UTC month, in USD");
}

void print(const boost::json::value& v) { std::cout << boost::json::serialize(v) << "\n"; }

}  // namespace

config::Config store_config(const StoreOptions& o) {
  auto env = config::process_env();
  config::Config cfg = o.config_path.empty() ? config::default_config() : config::load_config_file(o.config_path, env);
  config::apply_env_overrides(cfg, env);
  if (!o.data_dir.empty()) {
    cfg.data_dir = o.data_dir;
    if (o.config_path.empty()) cfg.ledger.path.clear();
  }
  return cfg;
}

std::string database_path(const StoreOptions& o) { return store_config(o).database_path(); }

void add_store_commands(CLI::App& app, StoreCommandOptions& o) {
  auto* keys = app.add_subcommand("keys", "Create, list and revoke virtual keys");
  keys->require_subcommand(1);
  auto* create = keys->add_subcommand("create", "Create a key (printed once; only its hash is stored)");
  create->add_option("--project", o.project, "Project the key belongs to (created if new)")->required();
  create->add_option("--name", o.name, "A label for the key");
  create->add_flag("--json", o.json, "Print the key and its record as JSON");
  add_limit_options(create, o.limits);
  add_store_options(create, o.store);
  auto* list = keys->add_subcommand("list", "List keys as JSON");
  list->add_flag("--all", o.all, "Include revoked keys");
  add_store_options(list, o.store);
  auto* revoke = keys->add_subcommand("revoke", "Revoke a key by id");
  revoke->add_option("id", o.id, "Key id (key_...)")->required();
  add_store_options(revoke, o.store);

  auto* projects = app.add_subcommand("projects", "Set and list project limits and budgets");
  projects->require_subcommand(1);
  auto* set = projects->add_subcommand("set", "Create a project or replace its limits");
  set->add_option("name", o.project, "Project name")->required();
  add_limit_options(set, o.limits);
  add_store_options(set, o.store);
  auto* plist = projects->add_subcommand("list", "List projects as JSON");
  add_store_options(plist, o.store);

  auto* usage = app.add_subcommand("usage", "Tokens and cost from the ledger, as JSON");
  usage->add_option("--project", o.project, "Only this project");
  usage->add_option("--key", o.id, "Only this key id");
  usage->add_option("--by", o.by, "Group by day, model, key or project")
      ->check(CLI::IsMember({"day", "model", "key", "project"}));
  usage->add_option("--since", o.since, "From this UTC date (YYYY-MM-DD) or unix ms; default: 30 days ago");
  usage->add_option("--until", o.until, "Before this UTC date (YYYY-MM-DD) or unix ms");
  add_store_options(usage, o.store);
}

int run_store_command(CLI::App& app, const StoreCommandOptions& o) {
  const auto cfg = store_config(o.store);
  const auto path = server::key_store_label(cfg);
  if (auto* keys = app.get_subcommand("keys"); keys->parsed()) {
    auto owned = server::open_key_store(cfg);
    auto& store = *owned;
    if (keys->get_subcommand("create")->parsed()) {
      auto created = store.create_key(o.project, o.limits.limits, o.name, unix_ms(std::chrono::system_clock::now()));
      if (o.json) {
        auto out = server::key_json(created.record);
        out["key"] = created.secret;
        print(out);
      } else {
        std::cout << created.secret << "\n";
      }
      std::fprintf(stderr, "created %s for project %s in %s; the key is shown only once\n",
                   created.record.id.c_str(), created.record.project.c_str(), path.c_str());
      return 0;
    }
    if (keys->get_subcommand("list")->parsed()) {
      boost::json::array data;
      for (const auto& k : store.list_keys(o.all)) data.push_back(server::key_json(k));
      print(boost::json::object{{"data", std::move(data)}});
      return 0;
    }
    if (!store.revoke_key(o.id, unix_ms(std::chrono::system_clock::now()))) {
      std::fprintf(stderr, "sluice: no active key %s\n", o.id.c_str());
      return 1;
    }
    std::fprintf(stderr, "revoked %s\n", o.id.c_str());
    return 0;
  }
  if (auto* projects = app.get_subcommand("projects"); projects->parsed()) {
    auto owned = server::open_key_store(cfg);
    auto& store = *owned;
    if (projects->get_subcommand("set")->parsed()) {
      print(server::project_json(store.set_project(o.project, o.limits.limits, unix_ms(std::chrono::system_clock::now()))));
      return 0;
    }
    boost::json::array data;
    for (const auto& p : store.list_projects()) data.push_back(server::project_json(p));
    print(boost::json::object{{"data", std::move(data)}});
    return 0;
  }
  // usage
  ledger::UsageFilter f;
  if (!o.project.empty()) f.project = o.project;
  if (!o.id.empty()) f.key_id = o.id;
  f.by = *server::parse_group_by(o.by);
  f.since_ms = unix_ms(std::chrono::system_clock::now()) - std::int64_t{30} * 86'400'000;
  if (!o.since.empty()) {
    auto t = server::parse_time(o.since);
    if (!t) throw std::invalid_argument("--since: expected YYYY-MM-DD or unix milliseconds");
    f.since_ms = *t;
  }
  if (!o.until.empty()) {
    auto t = server::parse_time(o.until);
    if (!t) throw std::invalid_argument("--until: expected YYYY-MM-DD or unix milliseconds");
    f.until_ms = *t;
  }
  auto reader = server::open_usage_reader(cfg);  // creates the ledger's tables if missing
  print(server::usage_report(*reader, f));
  return 0;
}

}  // namespace sluice::app
