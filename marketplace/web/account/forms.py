from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional


class ProfileForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    current_password = PasswordField("Current password", validators=[Optional(), Length(max=256)],
                                     description="Needed only to change your email or password.")
    new_password = PasswordField("New password", validators=[Optional(), Length(max=256)],
                                 description="Leave empty to keep your password.")
    confirm = PasswordField("Repeat new password",
                            validators=[EqualTo("new_password", message="The passwords do not match.")])
