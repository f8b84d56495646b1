/**
 * `%%copilot` cells are prompts: their editor highlights Markdown, not Python.
 *
 * A cell's language is its model's MIME type. The notebook sets every code cell's to the
 * kernel's language (when the kernel starts or changes); a prompt cell is set back to
 * Markdown each time, and a cell that stops being a prompt gets the kernel's language again.
 */
import { ICellModel } from '@jupyterlab/cells';
import { Notebook } from '@jupyterlab/notebook';

/** Markdown with LaTeX, the language of JupyterLab's own Markdown cells. */
export const PROMPT_MIME_TYPE = 'text/x-ipythongfm';

/** A cell that starts with the `%%copilot` cell magic (blank lines before it allowed). */
export function isPrompt(source: string): boolean {
  return /^\s*%%copilot(\s|$)/.test(source);
}

function settle(notebook: Notebook, model: ICellModel): void {
  if (model.type !== 'code') {
    return;
  }
  const wanted = isPrompt(model.sharedModel.getSource())
    ? PROMPT_MIME_TYPE
    : notebook.codeMimetype;
  if (model.mimeType !== wanted) {
    model.mimeType = wanted;
  }
}

const watched = new WeakSet<ICellModel>();

function watchCell(notebook: Notebook, model: ICellModel): void {
  if (watched.has(model)) {
    return;
  }
  watched.add(model);
  model.contentChanged.connect(() => settle(notebook, model));
  model.mimeTypeChanged.connect(() => settle(notebook, model));
  settle(notebook, model);
}

/** Keep every prompt cell of ``notebook`` in Markdown, as cells come, go and change. */
export function watchPrompts(notebook: Notebook): void {
  const watchAll = (): void => {
    const cells = notebook.model?.cells;
    if (!cells) {
      return;
    }
    for (let index = 0; index < cells.length; index++) {
      watchCell(notebook, cells.get(index));
    }
  };
  const connectModel = (): void => {
    notebook.model?.cells.changed.connect(watchAll);
    watchAll();
  };
  notebook.modelChanged.connect(connectModel);
  connectModel();
}
