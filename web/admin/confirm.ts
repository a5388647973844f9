// A confirmation in a modal <dialog> (focus is trapped in it and Escape cancels, by the browser's own rules).
import { byId } from "../shared/dom.ts";

export function confirmAction(text: string, verb: string): Promise<boolean> {
  const dialog = byId<HTMLDialogElement>("confirm");
  const ok = byId<HTMLButtonElement>("confirm-ok");
  const cancel = byId<HTMLButtonElement>("confirm-cancel");
  byId("confirm-text").textContent = text;
  ok.textContent = verb;
  return new Promise((resolve) => {
    const done = (answer: boolean) => {
      ok.removeEventListener("click", yes);
      cancel.removeEventListener("click", no);
      dialog.removeEventListener("cancel", no);
      if (dialog.open) dialog.close();
      resolve(answer);
    };
    const yes = () => done(true);
    const no = () => done(false);
    ok.addEventListener("click", yes);
    cancel.addEventListener("click", no);
    dialog.addEventListener("cancel", no);
    dialog.showModal();
    cancel.focus();
  });
}
