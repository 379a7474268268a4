// Passwords (Argon2id), secrets sealed with the master key (libsodium) and
// the audit chain, on the real SQLite store where tampering is tested.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "tests/support/sqlite_query.h"
#include "weft/core/encoding.h"
#include "weft/security/audit.h"
#include "weft/security/passwords.h"
#include "weft/security/secrets.h"
#include "weft/store/memory_store.h"
#include "weft/store/sqlite_store.h"

namespace weft::security {
namespace {

namespace fs = std::filesystem;

// Cheap parameters: the tests check behaviour, not cost.
constexpr PasswordCost kFast{.memory_kib = 256, .passes = 1, .lanes = 1};

TEST(Passwords, HashIsArgon2idAndVerifies) {
  Result<std::string> hash = HashPassword("correct horse battery", kFast);
  ASSERT_TRUE(hash.ok()) << hash.status();
  EXPECT_EQ(hash->rfind("$argon2id$v=19$m=256,t=1,p=1$", 0), 0u) << *hash;
  EXPECT_TRUE(VerifyPassword(*hash, "correct horse battery"));
  EXPECT_FALSE(VerifyPassword(*hash, "correct horse batterz"));
  EXPECT_FALSE(VerifyPassword(*hash, ""));
  // The salt is random: the same password hashes differently.
  EXPECT_NE(*hash, *HashPassword("correct horse battery", kFast));
  // The default cost is what the hash says it is.
  Result<std::string> strong = HashPassword("correct horse battery");
  ASSERT_TRUE(strong.ok());
  EXPECT_NE(strong->find("m=19456,t=2,p=1"), std::string::npos) << *strong;
}

TEST(Passwords, PolicyAndForeignHashes) {
  EXPECT_EQ(HashPassword("short", kFast).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HashPassword(std::string(2000, 'x'), kFast).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(VerifyPassword("plain-text-password", "plain-text-password"));
  EXPECT_FALSE(VerifyPassword("$argon2i$v=19$m=256,t=1,p=1$c2FsdHNhbHQ$aGFzaA", "whatever1"));
  EXPECT_FALSE(VerifyPassword("$argon2id$garbage", "whatever1"));
}

TEST(MasterKeys, ParseHexAndBase64AndRefuseOthers) {
  const std::string hex = MasterKey::Generate();
  ASSERT_EQ(hex.size(), 64u);
  EXPECT_TRUE(MasterKey::Parse(hex).ok());
  EXPECT_TRUE(MasterKey::Parse(" " + hex + "\n").ok());
  EXPECT_TRUE(MasterKey::Parse("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").ok());
  Result<MasterKey> bad = MasterKey::Parse("too-short");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("32 bytes"), std::string::npos);
  EXPECT_FALSE(MasterKey::Parse(std::string(64, 'z')).ok());
}

TEST(MasterKeys, SealedValuesOpenOnlyWithTheKeyAndTheName) {
  MasterKey key = *MasterKey::Parse(MasterKey::Generate());
  MasterKey other = *MasterKey::Parse(MasterKey::Generate());
  const std::string sealed = key.Seal("CRM_TOKEN", "s3cr3t-value");
  EXPECT_EQ(sealed.find("s3cr3t"), std::string::npos);
  EXPECT_NE(sealed, key.Seal("CRM_TOKEN", "s3cr3t-value"));  // a fresh nonce each time
  EXPECT_EQ(*key.Open("CRM_TOKEN", sealed), "s3cr3t-value");
  EXPECT_EQ(key.Open("CRM_TOKEN", "").status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(other.Open("CRM_TOKEN", sealed).status().code(), StatusCode::kUnauthenticated);
  // Moved to another name, it does not open.
  EXPECT_EQ(key.Open("PAY_TOKEN", sealed).status().code(), StatusCode::kUnauthenticated);
  // One flipped bit anywhere and it does not open.
  std::string raw = *Base64Decode(sealed);
  raw[raw.size() / 2] ^= 1;
  EXPECT_EQ(key.Open("CRM_TOKEN", Base64Encode(raw)).status().code(), StatusCode::kUnauthenticated);
}

TEST(MasterKeys, LoadPrefersTheEnvironmentThenTheFile) {
  const fs::path file = fs::temp_directory_path() / ("weft_key_" + std::to_string(::getpid()));
  const std::string hex = MasterKey::Generate();
  std::ofstream(file) << hex << "\n";
  ::unsetenv("WEFT_MASTER_KEY");
  EXPECT_FALSE(MasterKey::Load("")->has_value());
  Result<std::optional<MasterKey>> from_file = MasterKey::Load(file.string());
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  ASSERT_TRUE(from_file->has_value());
  const std::string sealed = (*from_file)->Seal("A", "v");
  ::setenv("WEFT_MASTER_KEY", "not a key", 1);
  Result<std::optional<MasterKey>> bad = MasterKey::Load(file.string());
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("WEFT_MASTER_KEY"), std::string::npos) << bad.status();
  ::setenv("WEFT_MASTER_KEY", hex.c_str(), 1);
  EXPECT_EQ(*(*MasterKey::Load(""))->Open("A", sealed), "v");
  ::unsetenv("WEFT_MASTER_KEY");
  EXPECT_FALSE(MasterKey::Load((file.string() + ".missing")).ok());
  fs::remove(file);
}

class VaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("weft_vault_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = (dir_ / "weft.db").string();
    store_ = Open();
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  std::unique_ptr<store::Store> Open() {
    store::SqliteOptions o;
    o.path = db_;
    return std::move(store::OpenSqliteStore(o)).value();
  }
  fs::path dir_;
  std::string db_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(VaultTest, StoredEncryptedAndReadBackByAnotherProcess) {
  const std::string hex = MasterKey::Generate();
  Vault vault(store_.get(), *MasterKey::Parse(hex));
  ASSERT_TRUE(vault.Set("CRM_TOKEN", "tok-123456", 1).ok());
  EXPECT_EQ(vault.Get("CRM_TOKEN").value_or(""), "tok-123456");
  // What is on disk is sealed.
  auto rows = testing::QueryRows(db_, "SELECT sealed FROM secrets WHERE name = 'CRM_TOKEN'");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0].find("tok-123456"), std::string::npos);
  // Nothing else in the file holds it either.
  store_.reset();
  std::ifstream in(db_, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes.find("tok-123456"), std::string::npos);
  store_ = Open();
  // Another process with the same key reads it.
  Vault again(store_.get(), *MasterKey::Parse(hex));
  ASSERT_TRUE(again.Reload().ok());
  EXPECT_EQ(again.Get("CRM_TOKEN").value_or(""), "tok-123456");
  // Listing never shows values.
  Result<std::vector<store::SecretRecord>> listed = again.List();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().name, "CRM_TOKEN");
  EXPECT_TRUE(listed->front().sealed.empty());
  ASSERT_TRUE(again.Delete("CRM_TOKEN").ok());
  EXPECT_FALSE(again.Get("CRM_TOKEN").has_value());
  EXPECT_EQ(again.Delete("CRM_TOKEN").code(), StatusCode::kNotFound);
}

TEST_F(VaultTest, WrongOrMissingKeyIsAClearError) {
  Vault vault(store_.get(), *MasterKey::Parse(MasterKey::Generate()));
  ASSERT_TRUE(vault.Set("A_KEY", "value-1", 1).ok());
  Vault wrong(store_.get(), *MasterKey::Parse(MasterKey::Generate()));
  Status s = wrong.Reload();
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(s.message().find("A_KEY"), std::string::npos) << s;
  Vault none(store_.get(), std::nullopt);
  s = none.Reload();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("WEFT_MASTER_KEY"), std::string::npos) << s;
  EXPECT_EQ(none.Set("B", "v", 1).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(vault.Set("bad-name", "v", 1).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(vault.Set("BIG", std::string(70'000, 'x'), 1).code(), StatusCode::kInvalidArgument);
}

TEST_F(VaultTest, TheEnvironmentIsTheFallback) {
  Vault vault(store_.get(), *MasterKey::Parse(MasterKey::Generate()));
  ::setenv("WEFT_SECRET_FROM_ENV", "env-value", 1);
  EXPECT_EQ(vault.Get("FROM_ENV").value_or(""), "env-value");
  ASSERT_TRUE(vault.Set("FROM_ENV", "stored-value", 1).ok());
  EXPECT_EQ(vault.Get("FROM_ENV").value_or(""), "stored-value");  // the store wins
  ::unsetenv("WEFT_SECRET_FROM_ENV");
  EXPECT_FALSE(vault.Get("NEVER_SET").has_value());
}

class AuditTest : public VaultTest {
 protected:
  void Append(int n) {
    for (int i = 0; i < n; ++i) {
      Value details = Value::MakeObject();
      details.set("version", Value(i + 1));
      ASSERT_TRUE(Audit(*store_, 1000 + i, "user:alice", "deploy", "wf" + std::to_string(i), details).ok());
    }
  }
};

TEST_F(AuditTest, AnIntactLogVerifies) {
  Append(5);
  Result<AuditVerdict> v = VerifyAudit(*store_);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(v->ok) << v->problem;
  EXPECT_EQ(v->entries, 5);
  EXPECT_EQ(v->head_hash, store_->ListAudit(4, 1)->front().hash);
  EXPECT_TRUE(VerifyAudit(*store_, v->head_hash)->ok);
}

// Each way of tampering, done on the file as an attacker would.
struct Tamper {
  const char* name;
  const char* sql;
  int64_t broken_seq;
  const char* problem;
};

class AuditTamperTest : public AuditTest, public ::testing::WithParamInterface<Tamper> {};

TEST_P(AuditTamperTest, IsDetected) {
  Append(5);
  const std::string head = VerifyAudit(*store_)->head_hash;
  store_.reset();
  ASSERT_EQ(testing::ExecSql(db_, GetParam().sql), "");
  store_ = Open();
  Result<AuditVerdict> v = VerifyAudit(*store_, head);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_FALSE(v->ok);
  EXPECT_EQ(v->broken_seq, GetParam().broken_seq);
  EXPECT_NE(v->problem.find(GetParam().problem), std::string::npos) << v->problem;
}

// An attacker who knows the scheme edits an entry and recomputes its hash:
// the next entry no longer follows it (they would have to rewrite the whole
// tail, which the head kept elsewhere catches).
TEST_F(AuditTest, ARehashedEditBreaksTheNextLink) {
  Append(5);
  const std::string head = VerifyAudit(*store_)->head_hash;
  store::AuditEntry e = store_->ListAudit(2, 1)->front();
  e.actor = "user:mallory";
  const std::string forged = store::AuditHash(e);
  store_.reset();
  ASSERT_EQ(testing::ExecSql(db_, "UPDATE audit SET actor = 'user:mallory', hash = '" + forged + "' WHERE seq = 3"),
            "");
  store_ = Open();
  Result<AuditVerdict> v = VerifyAudit(*store_);
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->ok);
  EXPECT_EQ(v->broken_seq, 4);
  EXPECT_NE(v->problem.find("does not follow"), std::string::npos) << v->problem;
  (void)head;
}

INSTANTIATE_TEST_SUITE_P(
    Ways, AuditTamperTest,
    ::testing::Values(Tamper{"EditedActor", "UPDATE audit SET actor = 'user:mallory' WHERE seq = 3", 3, "was edited"},
                      Tamper{"EditedDetails", "UPDATE audit SET details = '{}' WHERE seq = 1", 1, "was edited"},
                      Tamper{"DeletedMiddle", "DELETE FROM audit WHERE seq = 2", 3, "missing"},
                      Tamper{"DeletedAndRenumbered",
                             "DELETE FROM audit WHERE seq = 2; UPDATE audit SET seq = seq - 1 WHERE seq > 2", 2,
                             "does not follow"},
                      Tamper{"ForgedHash", "UPDATE audit SET hash = 'forged' WHERE seq = 4", 4, "was edited"},
                      Tamper{"CutTail", "DELETE FROM audit WHERE seq >= 4", 4, "expected head"}),
    [](const ::testing::TestParamInfo<Tamper>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace weft::security
