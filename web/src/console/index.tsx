// weft's web console, served by `weft serve` at `/`.
import { render } from "preact";
import { App } from "./app";
import "./style.css";

render(<App />, document.getElementById("app")!);
