import { useState } from "preact/hooks";
import { me, post } from "../api";
import { ErrorBox, useAction } from "../ui";

export function SignIn() {
  const [user, setUser] = useState("");
  const [password, setPassword] = useState("");
  const action = useAction();
  return (
    <main class="signin">
      <form
        class="card"
        onSubmit={async (e) => {
          e.preventDefault();
          const r = await action.run(() => post("/api/v1/session", { user, password }));
          if (r) me.value = r;
        }}
      >
        <h1>weft</h1>
        <p class="muted">Sign in to the console.</p>
        <div class="field">
          <label for="user">User</label>
          <input id="user" autocomplete="username" value={user} onInput={(e) => setUser(e.currentTarget.value)} required />
        </div>
        <div class="field">
          <label for="password">Password</label>
          <input
            id="password"
            type="password"
            autocomplete="current-password"
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
            required
          />
        </div>
        <ErrorBox error={action.error} />
        <button class="primary" type="submit" disabled={action.busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}
