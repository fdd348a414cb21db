// response_mode=form_post: send the authorization response to the site without a click.
document.getElementById('form-post').submit()
